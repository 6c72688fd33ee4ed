"""Reserving a slot on every resource day it touches — one rule for writes and tests."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from slotline.availability.domain.assignment import booking_days
from slotline.availability.domain.calendar import Reservation, ResourceDay

CalendarFor = Callable[[UUID, date], ResourceDay]
"""The resource day of a resource on a local date (loaded, or opened when new)."""


def reserve_slot(
    calendar_for: CalendarFor,
    resource_ids: Iterable[UUID],
    reservation: Reservation,
    tz: ZoneInfo,
    *,
    now: datetime,
    max_per_day: int | None = None,
) -> list[ResourceDay]:
    """Make ``reservation`` (buffers included) on each resource's days.

    A padded slot crossing local midnight touches two days; it counts toward the daily
    limit only on the day it starts. Returns the resource days changed, to be saved
    together with the hold. Raises ``SlotTaken`` / ``DailyLimitReached``.
    """
    touched: list[ResourceDay] = []
    for resource_id in resource_ids:
        for day, primary in booking_days(reservation.occupied, reservation.slot, tz):
            calendar = calendar_for(resource_id, day)
            calendar.reserve(reservation, now, max_per_day=max_per_day, primary=primary)
            touched.append(calendar)
    return touched
