"""Where a booking stands, who moves it, and the refusal of a move its state forbids."""

from __future__ import annotations

from enum import StrEnum


class BookingStatus(StrEnum):
    REQUESTED = "requested"
    AWAITING_PAYMENT = "awaiting_payment"
    CONFIRMING = "confirming"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"


PENDING = frozenset(
    {BookingStatus.REQUESTED, BookingStatus.AWAITING_PAYMENT, BookingStatus.CONFIRMING}
)


class Actor(StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"
    SYSTEM = "system"


class InvalidTransition(Exception):
    """The command makes no sense in the booking's current state."""


class MoveAnswer(StrEnum):
    """Where a move a caller asked for stands once its wait is over."""

    MOVED = "moved"
    REFUSED = "refused"
    UNDER_WAY = "under_way"
