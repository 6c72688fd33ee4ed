"""Offer rules: when a slot may be offered at all, and why a hold is rejected."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from slotline.availability.domain.schedule import local_date_of
from slotline.availability.domain.values import Interval, ServiceDefinition


class RejectionReason(StrEnum):
    """Why a requested slot cannot be held (published with the rejection)."""

    TAKEN = "taken"
    OUTSIDE_HOURS = "outside_hours"
    TOO_SHORT_NOTICE = "too_short_notice"
    BEYOND_HORIZON = "beyond_horizon"
    DAILY_LIMIT_REACHED = "daily_limit_reached"
    UNKNOWN_SERVICE = "unknown_service"
    CAPACITY_FULL = "capacity_full"


def check_booking_window(
    service: ServiceDefinition, slot_start: datetime, now: datetime
) -> RejectionReason | None:
    """Minimum notice and booking horizon; both bounds are inclusive."""
    lead = slot_start - now
    if lead < service.minimum_notice:
        return RejectionReason.TOO_SHORT_NOTICE
    if lead > service.booking_horizon:
        return RejectionReason.BEYOND_HORIZON
    return None


def last_bookable_date(service: ServiceDefinition, now: datetime, tz: ZoneInfo) -> date:
    """The last local date the horizon reaches from ``now``."""
    return local_date_of(now + service.booking_horizon, tz)


def candidate_starts(
    service: ServiceDefinition,
    working: Iterable[Interval],
    tz: ZoneInfo,
    local_date: date,
) -> list[datetime]:
    """Slot starts on ``local_date`` worth offering from these working intervals (see
    :func:`_candidate_starts`; memoised, as most resources share their hours)."""
    return list(_candidate_starts(service, tuple(working), tz, local_date))


@lru_cache(maxsize=4096)
def _candidate_starts(
    service: ServiceDefinition,
    working: tuple[Interval, ...],
    tz: ZoneInfo,
    local_date: date,
) -> tuple[datetime, ...]:
    """Slot starts on ``local_date`` worth offering from these working intervals.

    Starts step by the service's slot interval from the start of each working interval;
    a start is kept when the slot with its buffers fits inside that working interval.
    ``working`` may reach into the next day, so late slots can cross midnight.
    """
    starts: set[datetime] = set()
    for interval in working:
        start = interval.start
        while start + service.duration + service.buffer_after <= interval.end:
            occupied = service.occupied(service.slot_at(start))
            if interval.contains(occupied) and local_date_of(start, tz) == local_date:
                starts.add(start)
            start += service.slot_interval
    return tuple(sorted(starts))
