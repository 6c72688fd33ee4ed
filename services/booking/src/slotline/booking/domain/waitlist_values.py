"""The waitlist's values: an entry's status, what freed a start, an offer under way, a
match of a free start and a waiting entry (the line itself is :mod:`.waitlist`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypedDict


class EntryStatus(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    CLAIMED = "claimed"
    PASSED = "passed"
    LEFT = "left"


OPEN = frozenset({EntryStatus.WAITING, EntryStatus.OFFERED})


class FreedBy(StrEnum):
    """What gave a start to the line."""

    CANCELLED = "cancelled"  # a confirmed booking's allocation was cancelled
    RELEASED = "released"  # a hold was released before it was confirmed
    EXPIRED = "expired"  # a hold ran out
    MOVED = "moved"  # a booking moved away from it
    OPENED = "opened"  # no booking gave it back: the live view shows it bookable


class Freeing(TypedDict):
    """What freed a start: when (ISO instant), by what (a FreedBy value), which booking."""

    at: str
    by: str | None
    booking_id: str | None


class NotInLine(LookupError):
    """No such entry in this line (or it has left or been served)."""


@dataclass(frozen=True)
class Match:
    """A free start and the first waiting entry it suits."""

    entry_id: str
    customer_id: str
    start: datetime
    staff_id: str | None


@dataclass(frozen=True)
class Offer:
    """An offer under way: the booking holding the slot, for which entry."""

    booking_id: str
    entry_id: str
    start: datetime
    freed_at: datetime
    sent: bool
    freed_by: FreedBy | None = None  # None: stored before the cause was kept
    freed_booking_id: str | None = None  # the booking that gave the start back
