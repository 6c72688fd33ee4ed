"""The customer's calendar: offered slots grouped by local day, each day marked
available / limited / booked, and the nearest free times to one that was taken.

Everything is in the location's zone: a customer books "Tuesday 10:00 in Athens",
whatever their phone's clock says.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

LIMITED_BELOW = 4
"""A day with fewer free slots than this is shown as limited."""


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    status: str  # available, limited or booked

    @property
    def free(self) -> bool:
        return self.status != "booked"


@dataclass(frozen=True)
class Day:
    day: date
    slots: tuple[Slot, ...]

    @property
    def free_slots(self) -> list[Slot]:
        return [slot for slot in self.slots if slot.free]

    @property
    def status(self) -> str:
        """closed (nothing offered), booked, limited or available."""
        if not self.slots:
            return "closed"
        free = self.free_slots
        if not free:
            return "booked"
        if len(free) < LIMITED_BELOW or all(slot.status == "limited" for slot in free):
            return "limited"
        return "available"


def slots_from(rows: Iterable[dict[str, Any]], zone: ZoneInfo) -> list[Slot]:
    """The availability service's slot rows as slots in the location's zone."""
    slots = [
        Slot(
            datetime.fromisoformat(row["start"]).astimezone(zone),
            datetime.fromisoformat(row["end"]).astimezone(zone),
            str(row["status"]),
        )
        for row in rows
    ]
    return sorted(slots, key=lambda slot: slot.start)


def days(slots: Sequence[Slot], first: date, count: int) -> list[Day]:
    """``count`` consecutive local days from ``first``, each with its slots."""
    by_day: dict[date, list[Slot]] = {}
    for slot in slots:
        by_day.setdefault(slot.start.date(), []).append(slot)
    return [
        Day(first + timedelta(days=n), tuple(by_day.get(first + timedelta(days=n), ())))
        for n in range(count)
    ]


def first_bookable(calendar: Sequence[Day]) -> Day | None:
    """The day the page opens on: the first with a free slot."""
    return next((day for day in calendar if day.free_slots), None)


def nearest(free: Iterable[Slot], wanted: datetime, count: int = 3) -> list[Slot]:
    """The free slots closest in time to ``wanted`` (either side), soonest first."""
    closest = sorted(
        (slot for slot in free if slot.free and slot.start != wanted),
        key=lambda slot: (abs(slot.start - wanted), slot.start),
    )[:count]
    return sorted(closest, key=lambda slot: slot.start)
