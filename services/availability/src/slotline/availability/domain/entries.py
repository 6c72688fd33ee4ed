"""What a resource's day holds, and the pure rules that decide whether a new booking fits.

The rules live here as functions over a sequence of :class:`CalendarEntry` so that the
:class:`~.calendar.ResourceDay` aggregate (the write side) and :class:`DayEntries`
(a lightweight read-side view, e.g. built from a projection) answer identically.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from slotline.availability.domain.values import Interval


class SlotTaken(Exception):
    """The occupied interval overlaps a live entry, or the group session is full."""

    def __init__(self, conflict: Interval, full: bool = False) -> None:
        super().__init__(conflict, full)
        self.conflict = conflict
        self.full = full

    def __str__(self) -> str:
        # Worded only when read: slot finding makes thousands of these per day view and
        # reads none (formatting them was a tenth of the projector's time, profiled).
        what = "group session is full" if self.full else "slot overlaps a booking"
        return f"{what}: {self.conflict.start.isoformat()}/{self.conflict.end.isoformat()}"


class DailyLimitReached(Exception):
    """The resource already has its maximum number of bookings of this service that day."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"daily limit of {limit} bookings reached")
        self.limit = limit


class EntryStatus(StrEnum):
    HELD = "held"
    ALLOCATED = "allocated"


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    """One booking (a hold, later an allocation) on one resource's day."""

    hold_id: UUID
    slot: Interval
    occupied: Interval
    service_id: UUID
    capacity: int
    seats: int
    status: EntryStatus
    expires_at: datetime | None
    primary: bool = True
    """False on the second day of a booking that crosses local midnight: it blocks time
    there but counts toward the daily limit of the day it starts."""

    def is_live(self, now: datetime) -> bool:
        """Allocations always are; a hold only until it expires (lazy expiry)."""
        if self.status is EntryStatus.ALLOCATED:
            return True
        return self.expires_at is not None and now < self.expires_at

    def session_key(self) -> Hashable:
        """What counts as one booking toward a daily limit: a group session counts once."""
        return (self.service_id, self.slot) if self.capacity > 1 else self.hold_id


def live(entries: Iterable[CalendarEntry], now: datetime) -> list[CalendarEntry]:
    return sorted((e for e in entries if e.is_live(now)), key=lambda e: e.occupied.start)


def find_conflict(
    entries: Iterable[CalendarEntry],
    occupied: Interval,
    now: datetime,
    *,
    service_id: UUID | None = None,
    slot: Interval | None = None,
    capacity: int = 1,
    seats: int = 1,
) -> SlotTaken | None:
    """Why ``occupied`` does not fit among the live ``entries``, or ``None`` when it does.

    Overlap is never allowed, except joining a group session: same service, the exact
    same slot and ``capacity > 1``, while the seats taken stay within the capacity.
    """
    return conflict_among(
        live(entries, now), occupied, service_id=service_id, slot=slot, capacity=capacity,
        seats=seats,
    )  # fmt: skip


def conflict_among(
    live_entries: Iterable[CalendarEntry],
    occupied: Interval,
    *,
    service_id: UUID | None = None,
    slot: Interval | None = None,
    capacity: int = 1,
    seats: int = 1,
) -> SlotTaken | None:
    """:func:`find_conflict` among entries already known to be live."""
    seats_taken = 0
    for entry in live_entries:
        if not entry.occupied.overlaps(occupied):
            continue
        same_session = capacity > 1 and entry.service_id == service_id and entry.slot == slot
        if not same_session:
            return SlotTaken(entry.occupied)
        seats_taken += entry.seats
    if seats_taken + seats > capacity:
        return SlotTaken(slot or occupied, full=True)
    return None


def seats_taken(
    entries: Iterable[CalendarEntry], service_id: UUID, slot: Interval, now: datetime
) -> int:
    return sum(e.seats for e in live(entries, now) if e.service_id == service_id and e.slot == slot)


def sessions(entries: Iterable[CalendarEntry], service_id: UUID, now: datetime) -> set[Hashable]:
    """The distinct bookings of ``service_id`` that count toward this day's limit."""
    return {e.session_key() for e in live(entries, now) if e.primary and e.service_id == service_id}


def check_daily_limit(
    entries: Iterable[CalendarEntry],
    service_id: UUID,
    slot: Interval,
    capacity: int,
    limit: int | None,
    now: datetime,
) -> DailyLimitReached | None:
    """Whether one more booking of ``service_id`` would exceed ``limit`` on this day.

    Joining a group session that already exists does not add a booking.
    """
    if limit is None:
        return None
    booked = sessions(entries, service_id, now)
    if capacity > 1 and (service_id, slot) in booked:
        return None
    return DailyLimitReached(limit) if len(booked) >= limit else None


def load(entries: Iterable[CalendarEntry], now: datetime) -> int:
    """How busy the day is: the number of live bookings starting on it."""
    return len({e.session_key() for e in live(entries, now) if e.primary})


class CalendarView(Protocol):
    """What slot finding needs to know about one resource's day."""

    def live_entries(self, now: datetime) -> list[CalendarEntry]: ...


@dataclass(frozen=True, slots=True)
class DayEntries:
    """A read-only calendar view over plain entries (e.g. rows of a projection)."""

    entries: Sequence[CalendarEntry] = ()

    def live_entries(self, now: datetime) -> list[CalendarEntry]:
        return live(self.entries, now)
