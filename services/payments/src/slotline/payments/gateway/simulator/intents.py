"""The simulated network's PaymentIntent rules, pure: a new intent in Stripe's shape,
and what a card's answer does to an intent being confirmed (created and confirmed in
one request, or opened for the Payment Element and confirmed by the browser later)."""

from __future__ import annotations

import secrets
import time
from typing import Any

from slotline.payments.gateway.simulator.tokens import CardBehaviour, card_error

Object = dict[str, Any]


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def new_intent(params: Object, amount: int, payment_method: str | None) -> Object:
    """A PaymentIntent for ``amount`` as Stripe creates it, not yet confirmed."""
    intent_id = new_id("pi")
    manual = params.get("capture_method") == "manual"
    return {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_received": 0,
        "capture_method": "manual" if manual else "automatic",
        "client_secret": f"{intent_id}_secret_{secrets.token_urlsafe(18)}",
        "currency": str(params["currency"]).lower(),
        "created": int(time.time()),
        "description": params.get("description"),
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "metadata": dict(params.get("metadata") or {}),
        "next_action": None,
        "payment_method": payment_method,
        "status": "requires_payment_method",
    }


def card_answered(intent: Object, behaviour: CardBehaviour) -> tuple[str, Object | None]:
    """Apply the card's answer to ``intent`` (changed in place): the webhook event it
    makes, and the card error when the card was declined."""
    intent["last_payment_error"] = None
    if behaviour is CardBehaviour.AUTHENTICATION_REQUIRED:
        intent["status"] = "requires_action"
        intent["next_action"] = {"type": "use_stripe_sdk", "use_stripe_sdk": {}}
        return "payment_intent.requires_action", None
    if behaviour is not CardBehaviour.APPROVE:
        error = card_error(behaviour)
        intent.update(status="requires_payment_method", last_payment_error=error)
        return "payment_intent.payment_failed", error
    intent["latest_charge"] = new_id("ch")
    if intent["capture_method"] == "manual":
        intent.update(status="requires_capture", amount_capturable=intent["amount"])
        return "payment_intent.amount_capturable_updated", None
    intent.update(status="succeeded", amount_received=intent["amount"])
    return "payment_intent.succeeded", None
