"""How the simulated network treats a payment token (Stripe's documented test names).

``pm_card_visa`` / ``tok_visa`` (or any other token) succeed;
``…chargeDeclined`` → declined; ``…InsufficientFunds`` → insufficient funds;
``…ExpiredCard`` → expired card; ``…authenticationRequired`` / ``…threeDSecure…`` →
3-D Secure required; ``…timeout…`` → the network never answers.
"""

from __future__ import annotations

from enum import StrEnum


class CardBehaviour(StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    EXPIRED_CARD = "expired_card"
    AUTHENTICATION_REQUIRED = "authentication_required"
    TIMEOUT = "timeout"


def behaviour_of(token: str) -> CardBehaviour:
    name = token.lower()
    if "timeout" in name:
        return CardBehaviour.TIMEOUT
    if "authenticationrequired" in name or "threedsecure" in name:
        return CardBehaviour.AUTHENTICATION_REQUIRED
    if "insufficientfunds" in name:
        return CardBehaviour.INSUFFICIENT_FUNDS
    if "expiredcard" in name:
        return CardBehaviour.EXPIRED_CARD
    if "declined" in name:
        return CardBehaviour.DECLINE
    return CardBehaviour.APPROVE


_ERRORS = {
    CardBehaviour.DECLINE: ("card_declined", "generic_decline", "Your card was declined."),
    CardBehaviour.INSUFFICIENT_FUNDS: (
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    CardBehaviour.EXPIRED_CARD: ("expired_card", "expired_card", "Your card has expired."),
}


def card_error(behaviour: CardBehaviour) -> dict[str, str]:
    """The ``error`` object Stripe answers a declined confirmation with."""
    code, decline_code, message = _ERRORS[behaviour]
    return {"type": "card_error", "code": code, "decline_code": decline_code, "message": message}
