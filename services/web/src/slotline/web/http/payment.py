"""The deposit step. By default the simulated gateway: the customer picks one of its
test cards, whose name is the payment token (``tok_visa`` succeeds, the others fail
the way Stripe's test cards do). With a Stripe publishable key configured, Stripe's
Payment Element instead, on a PaymentIntent the payments service opened (Stripe.js
from js.stripe.com: Stripe's PCI rule, the one outside asset). No card number ever
reaches a Slotline service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slotline.web.domain.details import Details
from slotline.web.http.deps import Context
from slotline.web.sealed_details import DetailsSealer

STRIPE_JS = "https://js.stripe.com/v3"

SIMULATED_CARDS: tuple[tuple[str, str], ...] = (
    ("tok_visa", "card_approved"),
    ("tok_chargeDeclined", "card_declined"),
    ("tok_chargeDeclinedInsufficientFunds", "card_no_funds"),
)


def card_choice(value: str | None) -> str | None:
    """The chosen test card's token, or None (nothing chosen, or not one of ours)."""
    return value if value in {token for token, _ in SIMULATED_CARDS} else None


@dataclass(frozen=True)
class StripeStep:
    """What the page needs to mount the Payment Element."""

    publishable_key: str
    client_secret: str
    payment_intent_id: str
    sealed_details: str
    """What the customer typed, sealed for the return URL (:mod:`..sealed_details`)."""
    script: str = STRIPE_JS


async def stripe_step(
    web: Context, channel_token: str, request_id: str, due: dict[str, Any], details: Details
) -> StripeStep | None:
    """The Payment Element's PaymentIntent for this request (None: no Stripe key, the
    simulated form)."""
    key = web.settings.web_stripe_publishable_key
    if not key:
        return None
    opened = await web.services.payments.open_intent(
        channel_token, request_id, int(due["amount_minor"]), str(due["currency"])
    )
    sealed = DetailsSealer(web.settings.web_session_secret.get_secret_value()).seal(
        request_id, details
    )
    return StripeStep(key, str(opened["client_secret"]), str(opened["payment_intent_id"]), sealed)
