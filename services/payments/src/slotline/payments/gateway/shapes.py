"""Stripe's object shapes (PaymentIntent, Refund, Event) read as gateway facts.

Both adapters speak these shapes: Stripe itself, and the simulated card network, which
answers and sends webhooks the way Stripe documents them — so one reader serves both,
for answers, webhooks and reconciliation alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from slotline.payments.domain.facts import (
    AuthorizationRefused,
    Authorized,
    Captured,
    FailureReason,
    GatewayFact,
    Observation,
    Refunded,
    Voided,
)

_REASONS = {
    "insufficient_funds": FailureReason.INSUFFICIENT_FUNDS,
    "expired_card": FailureReason.EXPIRED_CARD,
    "authentication_required": FailureReason.AUTHENTICATION_REQUIRED,
    "processing_error": FailureReason.PROCESSING_ERROR,
}


def failure_reason(error: Mapping[str, Any] | None) -> FailureReason:
    """A Stripe error object (``last_payment_error`` or an API error) as a reason."""
    if not error:
        return FailureReason.DECLINED
    for code in (error.get("decline_code"), error.get("code")):
        if code in _REASONS:
            return _REASONS[str(code)]
    return FailureReason.DECLINED


def intent_facts(intent: Mapping[str, Any], gateway: str) -> list[GatewayFact]:
    """What a PaymentIntent's current state says about the payment it carries."""
    payment_id = (intent.get("metadata") or {}).get("payment_id")
    if not payment_id:
        return []
    reference = str(intent["id"])
    match intent.get("status"):
        case "requires_capture":
            amount = int(intent.get("amount_capturable") or intent.get("amount") or 0)
            return [Authorized(payment_id, reference, amount, gateway)]
        case "succeeded":
            return [
                Captured(payment_id, reference, int(intent.get("amount_received") or 0), gateway)
            ]
        case "canceled":
            return [Voided(payment_id)]
        case "requires_action":
            detail = "the card issuer asks for 3-D Secure authentication"
            return [AuthorizationRefused(payment_id, FailureReason.AUTHENTICATION_REQUIRED, detail)]
        case "requires_payment_method" if intent.get("last_payment_error"):
            error = intent["last_payment_error"]
            reason = failure_reason(error)
            return [AuthorizationRefused(payment_id, reason, str(error.get("message") or ""))]
    return []


def refund_fact(refund: Mapping[str, Any]) -> Refunded | None:
    """A Refund object as a fact (pending card refunds count: they rarely fail)."""
    metadata = refund.get("metadata") or {}
    payment_id = metadata.get("payment_id")
    if not payment_id or refund.get("status") not in {"succeeded", "pending"}:
        return None
    refund_id = metadata.get("refund_id") or str(refund["id"])
    return Refunded(payment_id, refund_id, int(refund.get("amount") or 0), str(refund["id"]))


def refund_facts(refunds: Iterable[Mapping[str, Any]]) -> list[GatewayFact]:
    return [fact for fact in map(refund_fact, refunds) if fact is not None]


def event_observations(event: Mapping[str, Any], gateway: str) -> list[Observation]:
    """A webhook Event as facts about ledgers (events we do not use give none)."""
    kind = str(event.get("type", ""))
    obj = (event.get("data") or {}).get("object") or {}
    metadata = obj.get("metadata") or {}
    tenant_id, booking_id = metadata.get("tenant_id"), metadata.get("booking_id")
    if not tenant_id or not booking_id:
        return []
    facts: list[GatewayFact] = []
    if kind.startswith("payment_intent."):
        facts = intent_facts(obj, gateway)
    elif kind in {"refund.created", "refund.updated", "charge.refund.updated"}:
        facts = refund_facts([obj])
    return [Observation(tenant_id, booking_id, fact) for fact in facts]
