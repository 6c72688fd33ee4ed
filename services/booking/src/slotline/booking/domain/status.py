"""Where a booking stands, who moves it, the refusal of a move its state forbids, and
what the asker of a move is told."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class BookingStatus(StrEnum):
    REQUESTED = "requested"
    AWAITING_PAYMENT = "awaiting_payment"
    CONFIRMING = "confirming"
    OFFERED = "offered"  # a waitlist offer: held for the customer until claimed
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"


PENDING = frozenset(
    {
        BookingStatus.REQUESTED,
        BookingStatus.AWAITING_PAYMENT,
        BookingStatus.CONFIRMING,
        BookingStatus.OFFERED,
    }
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


@dataclass(frozen=True)
class MoveReply:
    """What the caller who asked for a move is told once its wait is over: where the move
    stands (``answer``) and, when availability refused it, the stored refusal."""

    answer: MoveAnswer
    refusal: Mapping[str, Any] | None = None

    @property
    def card_changes(self) -> dict[str, Any]:
        """What the booking's card says otherwise in this reply: nothing, unless the move
        was refused — then its status is ``change_refused``, with why and the nearest free
        slots instead (as stored: ISO 8601), while the booking stays where it was."""
        if self.answer is not MoveAnswer.REFUSED:
            return {}
        refusal = self.refusal or {}
        return {
            "status": "change_refused",
            "reason": refusal.get("reason"),
            "detail": refusal.get("detail"),
            "alternatives": [{"start": s, "end": e} for s, e in refusal.get("alternatives", [])],
        }
