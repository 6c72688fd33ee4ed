"""Value objects of the availability domain: time intervals, hours, requirements, services.

All instants are aware datetimes normalised to UTC; local wall-clock times (``time``)
only appear in hours, and become instants in :mod:`.schedule`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from uuid import UUID

NO_TIME = timedelta(0)
NO_TAGS: frozenset[str] = frozenset()

LocalRange = tuple[time, time]
"""A local wall-clock range ``(start, end)``; an end of ``time(0)`` means midnight (24:00)."""


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is UTC:
        return instant  # the common case, and the hot path of slot finding
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"instant must be timezone-aware: {instant!r}")
    return instant.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Interval:
    """A half-open span of time ``[start, end)`` between two UTC instants."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", _utc(self.start))
        object.__setattr__(self, "end", _utc(self.end))
        if self.start >= self.end:
            raise ValueError(f"interval must start before it ends: {self.start} >= {self.end}")

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def overlaps(self, other: Interval) -> bool:
        """True when the two share any instant; back-to-back intervals do not overlap."""
        return self.start < other.end and other.start < self.end

    def contains(self, other: Interval | datetime) -> bool:
        if isinstance(other, Interval):
            return self.start <= other.start and other.end <= self.end
        return self.start <= other < self.end

    def padded(self, before: timedelta, after: timedelta) -> Interval:
        """This interval widened by ``before`` and ``after`` (the service's buffers)."""
        return Interval(self.start - before, self.end + after)

    def intersection(self, other: Interval) -> Interval | None:
        start, end = max(self.start, other.start), min(self.end, other.end)
        return Interval(start, end) if start < end else None


def _check_ranges(ranges: Iterable[LocalRange]) -> tuple[LocalRange, ...]:
    checked = tuple(sorted(ranges))
    for start, end in checked:
        if end != time(0) and end <= start:
            raise ValueError(f"local range must end after it starts: {start}-{end}")
    return checked


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """Working ranges per weekday (0 = Monday … 6 = Sunday) in local wall-clock time."""

    days: tuple[tuple[LocalRange, ...], ...] = ((),) * 7

    def __post_init__(self) -> None:
        if len(self.days) != 7:
            raise ValueError("weekly hours need exactly seven weekdays")
        object.__setattr__(self, "days", tuple(_check_ranges(day) for day in self.days))

    @classmethod
    def of(cls, by_weekday: Mapping[int, Iterable[LocalRange]]) -> WeeklyHours:
        """Build from ``{weekday: [(start, end), ...]}``; missing weekdays are closed."""
        return cls(tuple(tuple(by_weekday.get(day, ())) for day in range(7)))

    @classmethod
    def every_day(cls, *ranges: LocalRange) -> WeeklyHours:
        return cls((tuple(ranges),) * 7)

    def ranges_for(self, weekday: int) -> tuple[LocalRange, ...]:
        return self.days[weekday]


@dataclass(frozen=True, slots=True)
class DateOverride:
    """Replaces the weekly hours on one local date; no ranges means closed (holiday)."""

    date: date
    ranges: tuple[LocalRange, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "ranges", _check_ranges(self.ranges))

    @property
    def closed(self) -> bool:
        return not self.ranges


@dataclass(frozen=True, slots=True)
class TimeOff:
    """A span during which a resource is unavailable (leave, maintenance, or a busy time
    in its linked calendar: then ``source`` names the calendar and ``external_uid`` the
    event, so a sync replaces exactly the blocks it made)."""

    interval: Interval
    source: str | None = None
    external_uid: str | None = None


@dataclass(frozen=True, slots=True)
class ResourceSchedule:
    """When a resource works: its weekly hours, the dates whose hours replace them, and
    its time off."""

    weekly: WeeklyHours
    overrides: tuple[DateOverride, ...] = ()
    time_off: tuple[TimeOff, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "overrides", tuple(self.overrides))
        object.__setattr__(self, "time_off", tuple(self.time_off))


class ResourceKind(StrEnum):
    STAFF = "staff"
    ROOM = "room"
    EQUIPMENT = "equipment"


@dataclass(frozen=True, slots=True)
class Requirement:
    """``count`` distinct resources of ``kind`` carrying at least ``tags``."""

    kind: ResourceKind
    tags: frozenset[str] = NO_TAGS
    count: int = 1

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError("a requirement needs at least one resource")

    def is_satisfied_by(self, kind: ResourceKind, tags: frozenset[str]) -> bool:
        return kind == self.kind and self.tags <= tags


@dataclass(frozen=True, slots=True)
class ServiceDefinition:
    """What booking one service takes: how long, which resources, and its booking rules."""

    service_id: UUID
    duration: timedelta
    requirements: tuple[Requirement, ...]
    buffer_before: timedelta = NO_TIME
    buffer_after: timedelta = NO_TIME
    capacity: int = 1
    minimum_notice: timedelta = NO_TIME
    booking_horizon: timedelta = timedelta(days=90)
    slot_interval: timedelta = timedelta(minutes=15)
    max_per_day_per_resource: int | None = None
    max_per_day_per_location: int | None = None
    price_tier: str = "standard"

    def __post_init__(self) -> None:
        if self.duration <= NO_TIME or self.slot_interval <= NO_TIME:
            raise ValueError("duration and slot interval must be positive")
        if self.buffer_before < NO_TIME or self.buffer_after < NO_TIME:
            raise ValueError("buffers cannot be negative")
        if self.capacity < 1:
            raise ValueError("capacity must be at least 1")
        if not self.requirements:
            raise ValueError("a service needs at least one resource requirement")

    @property
    def is_group(self) -> bool:
        return self.capacity > 1

    def occupied(self, slot: Interval) -> Interval:
        """The time a booking of ``slot`` blocks its resources: the slot plus buffers."""
        return slot.padded(self.buffer_before, self.buffer_after)

    def slot_at(self, start: datetime) -> Interval:
        return Interval(start, start + self.duration)
