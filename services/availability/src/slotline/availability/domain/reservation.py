"""Reserving a slot on every resource day it touches — one rule for writes and tests."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from slotline.availability.domain.assignment import booking_days
from slotline.availability.domain.calendar import ResourceDay
from slotline.availability.domain.values import Interval, ServiceDefinition

CalendarFor = Callable[[UUID, date], ResourceDay]
"""The resource day of a resource on a local date (loaded, or opened when new)."""


def reserve_slot(
    calendar_for: CalendarFor,
    resource_ids: Iterable[UUID],
    hold_id: UUID,
    service: ServiceDefinition,
    slot: Interval,
    tz: ZoneInfo,
    *,
    seats: int,
    expires_at: datetime,
    now: datetime,
    max_per_day: int | None = None,
) -> list[ResourceDay]:
    """Reserve ``slot`` (buffers included) for ``hold_id`` on each resource's days.

    A padded slot crossing local midnight touches two days; it counts toward the daily
    limit only on the day it starts. Returns the resource days changed, to be saved
    together with the hold. Raises ``SlotTaken`` / ``DailyLimitReached``.
    """
    occupied = service.occupied(slot)
    touched: list[ResourceDay] = []
    for resource_id in resource_ids:
        for day, primary in booking_days(occupied, slot, tz):
            calendar = calendar_for(resource_id, day)
            calendar.reserve(
                hold_id,
                slot,
                occupied,
                service.service_id,
                service.capacity,
                seats,
                expires_at,
                now,
                max_per_day=max_per_day,
                primary=primary,
            )
            touched.append(calendar)
    return touched
