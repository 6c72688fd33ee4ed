"""Value objects to and from plain data, for event payloads.

Catalog events carry only JSON-friendly values (strings, numbers, lists, dicts), so the
event store's default transcoder can store them and analysts can read them as they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from slotline.availability.domain.values import (
    DateOverride,
    Interval,
    LocalRange,
    Requirement,
    ResourceKind,
    ServiceDefinition,
    TimeOff,
    WeeklyHours,
)

Data = dict[str, Any]


def ranges_to_data(ranges: Iterable[LocalRange]) -> list[list[str]]:
    return [[start.isoformat(), end.isoformat()] for start, end in ranges]


def ranges_from_data(data: Iterable[list[str]]) -> tuple[LocalRange, ...]:
    return tuple((time.fromisoformat(start), time.fromisoformat(end)) for start, end in data)


def weekly_to_data(weekly: WeeklyHours) -> list[list[list[str]]]:
    return [ranges_to_data(day) for day in weekly.days]


def weekly_from_data(data: Iterable[Iterable[list[str]]]) -> WeeklyHours:
    return WeeklyHours(tuple(ranges_from_data(day) for day in data))


def overrides_to_data(overrides: Iterable[DateOverride]) -> list[Data]:
    return [{"date": o.date.isoformat(), "ranges": ranges_to_data(o.ranges)} for o in overrides]


def overrides_from_data(data: Iterable[Data]) -> tuple[DateOverride, ...]:
    return tuple(
        DateOverride(date.fromisoformat(o["date"]), ranges_from_data(o["ranges"])) for o in data
    )


def time_off_to_data(time_off: Iterable[TimeOff]) -> list[Data]:
    return [_time_off_to_data(t) for t in time_off]


def _time_off_to_data(time_off: TimeOff) -> Data:
    data: Data = {
        "start": time_off.interval.start.isoformat(),
        "end": time_off.interval.end.isoformat(),
    }
    if time_off.source is not None:  # absent on time off entered by hand (and on older events)
        data["source"] = time_off.source
        data["external_uid"] = time_off.external_uid
    return data


def time_off_from_data(data: Iterable[Data]) -> tuple[TimeOff, ...]:
    return tuple(
        TimeOff(
            Interval(datetime.fromisoformat(t["start"]), datetime.fromisoformat(t["end"])),
            t.get("source"),
            t.get("external_uid"),
        )
        for t in data
    )


def requirement_to_data(requirement: Requirement) -> Data:
    return {
        "kind": requirement.kind.value,
        "tags": sorted(requirement.tags),
        "count": requirement.count,
    }


def requirement_from_data(data: Data) -> Requirement:
    return Requirement(ResourceKind(data["kind"]), frozenset(data["tags"]), int(data["count"]))


_DURATIONS = (
    "duration",
    "buffer_before",
    "buffer_after",
    "minimum_notice",
    "booking_horizon",
    "slot_interval",
)


def terms_to_data(service: ServiceDefinition) -> Data:
    """A service definition without its id; durations in seconds."""
    data: Data = {name: getattr(service, name).total_seconds() for name in _DURATIONS}
    data.update(
        requirements=[requirement_to_data(q) for q in service.requirements],
        capacity=service.capacity,
        max_per_day_per_resource=service.max_per_day_per_resource,
        max_per_day_per_location=service.max_per_day_per_location,
        price_tier=service.price_tier,
    )
    return data


def terms_from_data(service_id: UUID, data: Data) -> ServiceDefinition:
    durations = {name: timedelta(seconds=data[name]) for name in _DURATIONS}
    return ServiceDefinition(
        service_id=service_id,
        requirements=tuple(requirement_from_data(q) for q in data["requirements"]),
        capacity=int(data["capacity"]),
        max_per_day_per_resource=data["max_per_day_per_resource"],
        max_per_day_per_location=data["max_per_day_per_location"],
        price_tier=str(data["price_tier"]),
        **durations,
    )
