"""The calendar aggregate: one resource on one local date — the home of the invariant.

No two live entries of a resource overlap, buffers included (group sessions share one
slot up to their capacity). Each ``ResourceDay`` is a short stream, so concurrent holds
on different resources or days never contend; two holds racing for the same resource and
day meet at the stream's version (optimistic concurrency) and the loser retries.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from slotline.availability.domain.entries import (
    CalendarEntry,
    DailyLimitReached,
    EntryStatus,
    SlotTaken,
    check_daily_limit,
    find_conflict,
    live,
)
from slotline.availability.domain.values import Interval, ServiceDefinition

__all__ = [
    "CalendarEntry",
    "DailyLimitReached",
    "EntryLapsed",
    "EntryStatus",
    "Reservation",
    "ResourceDay",
    "SlotTaken",
    "UnknownEntry",
]

RESOURCE_DAY_NAMESPACE = uuid5(NAMESPACE_URL, "https://slotline.dev/availability/resource-day")


class UnknownEntry(Exception):
    """The resource day holds no entry for this hold."""


class EntryLapsed(Exception):
    """The hold's entry expired before it was allocated."""


@dataclass(frozen=True, slots=True)
class Reservation:
    """What a hold takes on each resource day it touches: its slot, the time that slot
    occupies (buffers included), the service's id and capacity, its seats, and when it
    lapses unless allocated."""

    hold_id: UUID
    slot: Interval
    occupied: Interval
    service_id: UUID
    capacity: int
    seats: int
    expires_at: datetime

    @classmethod
    def of(
        cls,
        hold_id: UUID,
        service: ServiceDefinition,
        slot: Interval,
        seats: int,
        expires_at: datetime,
    ) -> Reservation:
        """A hold's reservation of ``slot`` for ``service`` (its buffers occupied too)."""
        return cls(
            hold_id=hold_id,
            slot=slot,
            occupied=service.occupied(slot),
            service_id=service.service_id,
            capacity=service.capacity,
            seats=seats,
            expires_at=expires_at,
        )


class ResourceDay(Aggregate):
    """One resource's bookings on one local date, keyed by hold id."""

    @staticmethod
    @lru_cache(maxsize=65536)
    def create_id(resource_id: UUID, local_date: date | str) -> UUID:
        """Remembered: every hold decision names the days of every resource it weighs
        (uuid5 hashing was 3.3 % of the api process placing holds, py-spy)."""
        day = local_date if isinstance(local_date, str) else local_date.isoformat()
        return uuid5(RESOURCE_DAY_NAMESPACE, f"{resource_id}:{day}")

    @classmethod
    def open(cls, resource_id: UUID, local_date: date) -> ResourceDay:
        return cls(resource_id=resource_id, local_date=local_date.isoformat())

    @event("Opened")
    def __init__(self, resource_id: UUID, local_date: str) -> None:
        self.resource_id = resource_id
        self.local_date = date.fromisoformat(local_date)
        self.entries: dict[UUID, CalendarEntry] = {}

    def __deepcopy__(self, memo: dict[int, Any]) -> ResourceDay:
        """Entries are immutable values: a copy needs its own dict, not copies of them
        (the aggregate cache copies calendars on every read, so this is the hot path)."""
        clone = copy.copy(self)
        clone.entries = dict(self.entries)
        clone.__dict__["_pending_events"] = list(self.pending_events)
        return clone

    # -- commands ---------------------------------------------------------------------

    def reserve(
        self,
        reservation: Reservation,
        now: datetime,
        *,
        max_per_day: int | None = None,
        primary: bool = True,
    ) -> None:
        """Hold the reservation's occupied time until it expires, or raise why it can't.

        Raises :class:`SlotTaken` or :class:`DailyLimitReached`. Reserving a hold id that
        is already here does nothing (commands are retried).
        """
        if reservation.hold_id in self.entries:
            return
        if reservation.seats < 1:
            raise ValueError("a reservation takes at least one seat")
        entries = self.entries.values()
        conflict = find_conflict(
            entries,
            reservation.occupied,
            now,
            service_id=reservation.service_id,
            slot=reservation.slot,
            capacity=reservation.capacity,
            seats=reservation.seats,
        )
        if conflict is not None:
            raise conflict
        if primary:
            limited = check_daily_limit(
                entries,
                reservation.service_id,
                reservation.slot,
                reservation.capacity,
                max_per_day,
                now,
            )
            if limited is not None:
                raise limited
        self._reserved(
            hold_id=reservation.hold_id,
            slot_start=reservation.slot.start,
            slot_end=reservation.slot.end,
            occupied_start=reservation.occupied.start,
            occupied_end=reservation.occupied.end,
            service_id=reservation.service_id,
            capacity=reservation.capacity,
            seats=reservation.seats,
            expires_at=reservation.expires_at,
            primary=primary,
        )

    def allocate(self, hold_id: UUID, now: datetime) -> None:
        """Confirm a hold: it no longer expires. Allocating twice does nothing.

        Raises :class:`EntryLapsed` when the hold ran out before ``now``: its time may
        already belong to someone else, so it is never revived here.
        """
        entry = self.entries.get(hold_id)
        if entry is None:
            raise UnknownEntry(f"no entry for hold {hold_id} on {self.local_date}")
        if entry.status is EntryStatus.ALLOCATED:
            return
        if not entry.is_live(now):
            raise EntryLapsed(f"hold {hold_id} lapsed at {entry.expires_at}")
        self._allocated(hold_id=hold_id)

    def free(self, hold_id: UUID, reason: str) -> None:
        """Remove the entry (released, expired, cancelled, rescheduled); unknown: no-op."""
        if hold_id in self.entries:
            self._freed(hold_id=hold_id, reason=str(reason))

    def expire(self, now: datetime) -> list[UUID]:
        """Remove every held entry whose time ran out; returns their hold ids."""
        lapsed = [e.hold_id for e in self.entries.values() if not e.is_live(now)]
        for hold_id in lapsed:
            self.free(hold_id, "expired")
        return lapsed

    # -- queries ----------------------------------------------------------------------

    def live_entries(self, now: datetime) -> list[CalendarEntry]:
        return live(self.entries.values(), now)

    def is_free(
        self,
        occupied: Interval,
        now: datetime,
        service_id: UUID | None = None,
        slot: Interval | None = None,
        capacity: int = 1,
        seats: int = 1,
    ) -> bool:
        conflict = find_conflict(
            self.entries.values(),
            occupied,
            now,
            service_id=service_id,
            slot=slot,
            capacity=capacity,
            seats=seats,
        )
        return conflict is None

    # -- events -----------------------------------------------------------------------

    class Reserved(Aggregate.Event):
        """A hold took its seats on this day (live until it expires or is allocated)."""

        hold_id: UUID
        slot_start: datetime
        slot_end: datetime
        occupied_start: datetime
        occupied_end: datetime
        service_id: UUID
        capacity: int
        seats: int
        expires_at: datetime
        primary: bool

    @event(Reserved)
    def _reserved(
        self,
        hold_id: UUID,
        slot_start: datetime,
        slot_end: datetime,
        occupied_start: datetime,
        occupied_end: datetime,
        service_id: UUID,
        capacity: int,
        seats: int,
        expires_at: datetime,
        primary: bool,
    ) -> None:
        self.entries[hold_id] = CalendarEntry(
            hold_id=hold_id,
            slot=Interval(slot_start, slot_end),
            occupied=Interval(occupied_start, occupied_end),
            service_id=service_id,
            capacity=capacity,
            seats=seats,
            status=EntryStatus.HELD,
            expires_at=expires_at,
            primary=primary,
        )

    class Allocated(Aggregate.Event):
        """A live hold on this day became an allocation (it no longer expires)."""

        hold_id: UUID

    @event(Allocated)
    def _allocated(self, hold_id: UUID) -> None:
        entry = self.entries[hold_id]
        self.entries[hold_id] = replace(entry, status=EntryStatus.ALLOCATED, expires_at=None)

    @event("Freed")
    def _freed(self, hold_id: UUID, reason: str) -> None:
        del self.entries[hold_id]
