"""The catalog admin API's building blocks: its field types, the base of every body
and view, and opening hours (weekly ranges, date overrides, time off) with their rules —
each refused under its own name, so a 422 says which field broke which rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Annotated, Self, TypeVar, cast
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from slotline.availability.domain.calendar_sync import entered
from slotline.availability.domain.catalog import Resource
from slotline.availability.domain.values import (
    DateOverride,
    Interval,
    LocalRange,
    ResourceSchedule,
    TimeOff,
    WeeklyHours,
)
from slotline.events.clock import IANA_ZONE, AwareInstant, Day
from slotline.events.http_contract import JSON_INTEGER

MIDNIGHT = "24:00"
Integer = Annotated[int, JSON_INTEGER]
"""A JSON integer (``false`` and ``"9"`` are refused, as the document says)."""
_ZONES = frozenset(cast(list[str], IANA_ZONE["enum"]))


def _known_time_zone(value: str) -> str:
    """One of the zones the document lists (what ``ZoneInfo`` finds on this machine)."""
    if value not in _ZONES:
        raise PydanticCustomError(
            "unknown_time_zone", "unknown IANA time zone '{zone}'", {"zone": value}
        ) from None
    return value


Name = Annotated[str, Field(min_length=1, max_length=200)]
Tag = Annotated[str, Field(min_length=1, max_length=64)]
TimeZone = Annotated[
    str,
    Field(
        max_length=64,
        examples=["Europe/Athens"],
        description="IANA time zone.",
        json_schema_extra=IANA_ZONE,
    ),
    AfterValidator(_known_time_zone),
]
# Zero-padded HH:MM compares as text in clock order, "24:00" last: the order checks rely on it.
StartTime = Annotated[
    str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["09:00"], description="HH:MM.")
]
EndTime = Annotated[
    str,
    Field(
        pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$",
        examples=["17:00"],
        description="HH:MM; 24:00 = midnight.",
    ),
]


def _clock(value: str) -> time:
    return time(0) if value == MIDNIGHT else time.fromisoformat(value)


def _wire(value: time, *, end: bool = False) -> str:
    return MIDNIGHT if end and value == time(0) else value.strftime("%H:%M")


def whole_minutes(span: timedelta) -> int:
    return int(span.total_seconds()) // 60


Ordered = TypeVar("Ordered", str, datetime)


def _end_after_start(end: Ordered, info: ValidationInfo) -> Ordered:
    start = info.data.get("start")
    if start is not None and end <= start:
        raise PydanticCustomError(
            "end_before_start",
            "end {end} must be after start {start}",
            {"end": str(end), "start": str(start)},
        )
    return end


def _no_overlaps(ranges: Iterable[TimeRange], where: str = "") -> None:
    ordered = sorted(ranges, key=lambda r: r.start)
    for earlier, later in pairwise(ordered):
        if later.start < earlier.end:
            raise PydanticCustomError(
                "overlapping_ranges",
                "{where}{first} overlaps {second}",
                {"where": where, "first": str(earlier), "second": str(later)},
            )


class Body(BaseModel):
    """Request bodies: an unknown field is refused by name, not silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class View(BaseModel):
    """Response bodies."""

    model_config = ConfigDict(frozen=True)


class Created(View):
    id: UUID


# --- hours --------------------------------------------------------------------------------


class TimeRange(Body):
    """Local wall-clock hours ``[start, end)``; ``end`` is after ``start`` (refused with
    ``end_before_start`` otherwise)."""

    start: StartTime
    end: EndTime

    _ordered = field_validator("end")(_end_after_start)

    def __str__(self) -> str:
        return f"{self.start}-{self.end}"

    def to_local(self) -> LocalRange:
        return _clock(self.start), _clock(self.end)

    @classmethod
    def of(cls, local: LocalRange) -> Self:
        return cls(start=_wire(local[0]), end=_wire(local[1], end=True))


class WeeklyRange(TimeRange):
    """Working hours on one weekday."""

    weekday: Integer = Field(ge=0, le=6, description="0 = Monday … 6 = Sunday.")


class Override(Body):
    """Other hours on one local date; no ranges = closed (a holiday). Its ranges do not
    overlap (``overlapping_ranges``)."""

    day: Day
    ranges: list[TimeRange] = Field(default_factory=list)

    @field_validator("ranges")
    @classmethod
    def _separate(cls, ranges: list[TimeRange]) -> list[TimeRange]:
        _no_overlaps(ranges)
        return ranges

    def to_domain(self) -> DateOverride:
        return DateOverride(self.day, tuple(r.to_local() for r in self.ranges))

    @classmethod
    def of(cls, override: DateOverride) -> Self:
        return cls(day=override.date, ranges=[TimeRange.of(r) for r in override.ranges])


class TimeOffSpan(Body):
    """An absence ``[start, end)``; instants need an offset and are answered in UTC;
    ``end`` is after ``start`` (``end_before_start``)."""

    start: AwareInstant
    end: AwareInstant

    _ordered = field_validator("end")(_end_after_start)

    def to_domain(self) -> TimeOff:
        return TimeOff(Interval(self.start, self.end))

    @classmethod
    def of(cls, time_off: TimeOff) -> Self:
        return cls(start=time_off.interval.start, end=time_off.interval.end)


class Schedule(Body):
    """A resource's whole schedule: weekly hours (the ranges of one weekday do not
    overlap, ``overlapping_ranges``), date overrides (at most one per date,
    ``duplicate_date``), time off."""

    weekly: list[WeeklyRange] = Field(default_factory=list)
    overrides: list[Override] = Field(default_factory=list)
    time_off: list[TimeOffSpan] = Field(default_factory=list)

    @field_validator("weekly")
    @classmethod
    def _separate_per_weekday(cls, weekly: list[WeeklyRange]) -> list[WeeklyRange]:
        for weekday in range(7):
            _no_overlaps((r for r in weekly if r.weekday == weekday), f"weekday {weekday}: ")
        return weekly

    @field_validator("overrides")
    @classmethod
    def _one_per_date(cls, overrides: list[Override]) -> list[Override]:
        seen: set[date] = set()
        for override in overrides:
            if override.day in seen:
                raise PydanticCustomError(
                    "duplicate_date", "{day} has more than one override", {"day": str(override.day)}
                )
            seen.add(override.day)
        return overrides

    def to_domain(self) -> ResourceSchedule:
        weekly = WeeklyHours.of(
            {day: [r.to_local() for r in self.weekly if r.weekday == day] for day in range(7)}
        )
        return ResourceSchedule(
            weekly,
            tuple(o.to_domain() for o in self.overrides),
            tuple(t.to_domain() for t in self.time_off),
        )

    @classmethod
    def of(cls, resource: Resource) -> Self:
        weekly = [
            WeeklyRange(weekday=day, start=_wire(start), end=_wire(end, end=True))
            for day, ranges in enumerate(resource.weekly.days)
            for start, end in ranges
        ]
        return cls(
            weekly=weekly,
            overrides=[Override.of(o) for o in sorted(resource.overrides, key=lambda o: o.date)],
            time_off=[TimeOffSpan.of(t) for t in entered(resource.time_off)],
        )


# --- locations ------------------------------------------------------------------------------
