"""The gateway port over Stripe's API, whoever answers it: Stripe or the simulated network.

The simulated network answers and sends webhooks the way Stripe documents them, so one
reader of Stripe's object shapes (PaymentIntent, Refund, Event) serves both adapters,
for answers, webhooks and reconciliation alike; and one :class:`StripeApiGateway` creates
the same PaymentIntents and Refunds and verifies webhooks for both. A subclass says only
how a call reaches the API (its abstract ``_`` methods), answering Stripe's objects as
plain JSON-like data and raising the port's errors.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import Any

import stripe

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
from slotline.payments.gateway.port import (
    GatewayRejected,
    IntentToOpen,
    OpenedIntent,
    PaymentAddress,
    PaymentRequest,
    WebhookRejected,
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


WEBHOOK_TOLERANCE_SECONDS = 300

Confirmation = Authorized | Captured | AuthorizationRefused
Json = Mapping[str, Any]


class StripeApiGateway(ABC):
    """Every call of the gateway port, on the API calls a subclass makes."""

    name: str
    webhook_secret: str

    def authorize(self, request: PaymentRequest, key: str) -> Authorized | AuthorizationRefused:
        if request.token.startswith("pi_"):
            return self._adopt(request, key)
        fact = self._confirm(request, key, manual=True)
        assert not isinstance(fact, Captured)
        return fact

    def charge(self, request: PaymentRequest, key: str) -> Captured | AuthorizationRefused:
        fact = self._confirm(request, key, manual=False)
        assert not isinstance(fact, Authorized)
        return fact

    def _confirm(self, request: PaymentRequest, key: str, *, manual: bool) -> Confirmation:
        params = {
            "amount": request.amount,
            "currency": request.currency.lower(),
            "confirm": True,
            "capture_method": "manual" if manual else "automatic",
            "description": request.description,
            "metadata": request.metadata(),
        }
        intent = self._create_intent(request, params, key)
        if isinstance(intent, AuthorizationRefused):
            return intent
        for fact in intent_facts(intent, self.name):
            if isinstance(fact, Authorized | Captured | AuthorizationRefused):
                return fact
        return AuthorizationRefused(
            request.payment_id, FailureReason.PROCESSING_ERROR, f"status {intent['status']}"
        )

    def _adopt(self, request: PaymentRequest, key: str) -> Authorized | AuthorizationRefused:
        """A PaymentIntent we opened and the customer's browser confirmed (Payment
        Element) is the authorisation, once checked against our own records: this
        tenant's, manual capture, the amount and currency due; then it is tagged with
        the payment's ids, so webhooks and reconciliation find its ledger."""
        intent = self._retrieve_intent(request.token)
        metadata = intent.get("metadata") or {}
        expected = (request.tenant_id, request.amount, request.currency.lower(), "manual")
        found = (
            metadata.get("tenant_id"),
            int(intent.get("amount") or 0),
            str(intent.get("currency", "")),
            intent.get("capture_method"),
        )
        used = metadata.get("payment_id") not in (None, request.payment_id)
        if found != expected or used:
            detail = "the PaymentIntent is not one opened for this payment"
            return AuthorizationRefused(request.payment_id, FailureReason.PROCESSING_ERROR, detail)
        if metadata.get("payment_id") != request.payment_id:
            intent = self._tag_intent(request.token, {**metadata, **request.metadata()}, key)
        for fact in intent_facts(intent, self.name):
            if isinstance(fact, Authorized | AuthorizationRefused):
                return fact
        return AuthorizationRefused(
            request.payment_id, FailureReason.PROCESSING_ERROR, f"status {intent['status']}"
        )

    def open_intent(self, intent: IntentToOpen, key: str) -> OpenedIntent:
        """A PaymentIntent (manual capture) for the customer's browser to confirm with
        Stripe's Payment Element; its client secret goes to that browser only."""
        opened = self._open_intent(
            {
                "amount": intent.amount_minor,
                "currency": intent.currency.lower(),
                "capture_method": "manual",
                "description": intent.description,
                "metadata": {"tenant_id": intent.tenant_id, "request_id": intent.request_id},
            },
            key,
        )
        return OpenedIntent(str(opened["id"]), str(opened["client_secret"]))

    def capture(self, payment: PaymentAddress, amount: int, key: str) -> Captured:
        intent = self._capture_intent(self._reference(payment), amount, key)
        return Captured(payment.payment_id, intent["id"], int(intent["amount_received"]), self.name)

    def void(self, payment: PaymentAddress, key: str) -> Voided:
        self._cancel_intent(self._reference(payment), key)
        return Voided(payment.payment_id)

    def refund(self, payment: PaymentAddress, refund_id: str, amount: int, key: str) -> Refunded:
        params = {
            "payment_intent": self._reference(payment),
            "amount": amount,
            "metadata": {
                "tenant_id": payment.tenant_id,
                "booking_id": payment.booking_id,
                "payment_id": payment.payment_id,
                "refund_id": refund_id,
            },
        }
        refund = self._create_refund(params, key)
        fact = refund_fact(refund)
        if fact is None:
            raise GatewayRejected(f"refund {refund['id']} is {refund.get('status')}")
        return fact

    def state_of(self, payment: PaymentAddress) -> list[GatewayFact]:
        facts: list[GatewayFact] = []
        for intent in self._intents_of(payment):
            facts += intent_facts(intent, self.name)
            facts += refund_facts(self._refunds_of(str(intent["id"])))
        return facts

    def read_webhook(self, payload: bytes, signature: str | None) -> list[Observation]:
        try:
            stripe.WebhookSignature.verify_header(
                payload.decode(), signature or "", self.webhook_secret, WEBHOOK_TOLERANCE_SECONDS
            )
            event = json.loads(payload)
        except (stripe.SignatureVerificationError, ValueError) as error:
            raise WebhookRejected(str(error)) from error
        return event_observations(event, self.name)

    def _reference(self, payment: PaymentAddress) -> str:
        if not payment.reference:
            raise GatewayRejected(f"payment {payment.payment_id} has no PaymentIntent")
        return payment.reference

    @abstractmethod
    def _create_intent(
        self, request: PaymentRequest, params: dict[str, Any], key: str
    ) -> Json | AuthorizationRefused:
        """Create and confirm a PaymentIntent with ``params`` and the card of ``request``;
        a declined card is the refusal."""

    @abstractmethod
    def _retrieve_intent(self, reference: str) -> Json:
        """The PaymentIntent ``reference`` as the gateway has it now."""

    @abstractmethod
    def _tag_intent(self, reference: str, metadata: dict[str, str], key: str) -> Json:
        """Set the PaymentIntent's metadata (our ids)."""

    @abstractmethod
    def _open_intent(self, params: dict[str, Any], key: str) -> Json:
        """Create an unconfirmed PaymentIntent with ``params`` (it has a client secret)."""

    @abstractmethod
    def _capture_intent(self, reference: str, amount: int, key: str) -> Json:
        """Capture ``amount`` of the PaymentIntent ``reference``."""

    @abstractmethod
    def _cancel_intent(self, reference: str, key: str) -> Json:
        """Cancel the PaymentIntent ``reference`` (the hold is released)."""

    @abstractmethod
    def _create_refund(self, params: dict[str, Any], key: str) -> Json:
        """Create a Refund with ``params``."""

    @abstractmethod
    def _intents_of(self, payment: PaymentAddress) -> list[Json]:
        """The payment's PaymentIntents (by its reference, else by its metadata)."""

    @abstractmethod
    def _refunds_of(self, intent_id: str) -> list[Json]:
        """The Refunds of a PaymentIntent."""
