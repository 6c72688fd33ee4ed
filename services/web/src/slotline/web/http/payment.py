"""The deposit step with the simulated gateway: the customer picks one of its test
cards, whose name is the payment token (``tok_visa`` succeeds, the others fail the
way Stripe's test cards do). No card number ever reaches a Slotline service."""

from __future__ import annotations

SIMULATED_CARDS: tuple[tuple[str, str], ...] = (
    ("tok_visa", "card_approved"),
    ("tok_chargeDeclined", "card_declined"),
    ("tok_chargeDeclinedInsufficientFunds", "card_no_funds"),
)


def card_choice(value: str | None) -> str | None:
    """The chosen test card's token, or None (nothing chosen, or not one of ours)."""
    return value if value in {token for token, _ in SIMULATED_CARDS} else None
