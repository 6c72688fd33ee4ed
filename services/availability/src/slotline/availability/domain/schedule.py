"""Working time: from local weekly hours, overrides and time off to UTC intervals, DST-correct.

Each local wall-clock time is converted on its own date with its own UTC offset (never the
offset of midnight), so hours starting at 13:00 on a DST change day land where they should.
A local time inside a spring-forward gap moves to the first instant that exists (the
transition itself); an ambiguous local time in a fall-back overlap is its first occurrence.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from slotline.availability.domain.values import (
    DateOverride,
    Interval,
    LocalRange,
    TimeOff,
    WeeklyHours,
)

_ONE_SECOND = timedelta(seconds=1)


def _exists(local: datetime, tz: ZoneInfo) -> bool:
    round_trip = local.astimezone(UTC).astimezone(tz)
    return round_trip.replace(tzinfo=None) == local.replace(tzinfo=None)


def _transition_between(tz: ZoneInfo, before: datetime, after: datetime) -> datetime:
    """The first UTC instant in ``(before, after]`` that has ``after``'s UTC offset."""
    target = after.astimezone(tz).utcoffset()
    while after - before > _ONE_SECOND:
        middle = before + (after - before) // 2
        if middle.astimezone(tz).utcoffset() == target:
            after = middle
        else:
            before = middle
    return after


def local_to_utc(local_date: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock ``at`` on ``local_date`` in ``tz``.

    Ambiguous times take their first occurrence (``fold=0``); times in a DST gap move
    forward to the first existing instant, the moment the clocks jump.
    """
    local = datetime.combine(local_date, at, tzinfo=tz)
    if _exists(local, tz):
        return local.astimezone(UTC)
    # In a gap, fold=1 reads the time with the offset after the jump (an earlier instant),
    # fold=0 with the offset before it (a later instant): the jump lies between the two.
    earlier = local.replace(fold=1).astimezone(UTC)
    later = local.replace(fold=0).astimezone(UTC)
    return _transition_between(tz, earlier, later)


def local_range_to_utc(local_date: date, span: LocalRange, tz: ZoneInfo) -> Interval | None:
    """One local range as a UTC interval; ``None`` when DST swallows it entirely."""
    start, end = span
    end_date = local_date + timedelta(days=1) if end == time(0) else local_date
    start_utc = local_to_utc(local_date, start, tz)
    end_utc = local_to_utc(end_date, end, tz)
    return Interval(start_utc, end_utc) if start_utc < end_utc else None


def local_day(local_date: date, tz: ZoneInfo) -> Interval:
    """The UTC span of one local day (23, 24 or 25 hours long)."""
    return Interval(
        local_to_utc(local_date, time(0), tz),
        local_to_utc(local_date + timedelta(days=1), time(0), tz),
    )


def local_date_of(instant: datetime, tz: ZoneInfo) -> date:
    return instant.astimezone(tz).date()


def dates_touched(interval: Interval, tz: ZoneInfo) -> list[date]:
    """Every local date ``interval`` occupies some time of (its end is exclusive)."""
    return list(_dates_touched(interval, tz))


@lru_cache(maxsize=16_384)
def _dates_touched(interval: Interval, tz: ZoneInfo) -> tuple[date, ...]:
    """Memoised: slot finding asks it for every resource of every slot, and time zone
    conversions were the largest single cost of a day view (profiled)."""
    first = local_date_of(interval.start, tz)
    last = local_date_of(interval.end - timedelta(microseconds=1), tz)
    return tuple(first + timedelta(days=n) for n in range((last - first).days + 1))


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted union of ``intervals``; overlapping and back-to-back ones are joined."""
    merged: list[Interval] = []
    for interval in sorted(intervals, key=lambda i: (i.start, i.end)):
        if merged and interval.start <= merged[-1].end:
            if interval.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, interval.end)
        else:
            merged.append(interval)
    return merged


def subtract(intervals: Iterable[Interval], removed: Iterable[Interval]) -> list[Interval]:
    """``intervals`` with every instant of ``removed`` taken out."""
    remaining = merge(intervals)
    for cut in merge(removed):
        pieces: list[Interval] = []
        for interval in remaining:
            if not interval.overlaps(cut):
                pieces.append(interval)
                continue
            if interval.start < cut.start:
                pieces.append(Interval(interval.start, cut.start))
            if cut.end < interval.end:
                pieces.append(Interval(cut.end, interval.end))
        remaining = pieces
    return remaining


def ranges_on(
    weekly: WeeklyHours, overrides: Iterable[DateOverride], local_date: date
) -> tuple[LocalRange, ...]:
    """The local ranges that apply on ``local_date``: its override (last wins) or the week's."""
    ranges = weekly.ranges_for(local_date.weekday())
    for override in overrides:
        if override.date == local_date:
            ranges = override.ranges
    return ranges


def working_intervals(
    weekly: WeeklyHours,
    overrides: Iterable[DateOverride],
    time_off: Iterable[TimeOff],
    tz: ZoneInfo,
    local_date: date,
) -> list[Interval]:
    """A resource's working time on one local date, as sorted, merged UTC intervals."""
    converted = (
        local_range_to_utc(local_date, span, tz)
        for span in ranges_on(weekly, overrides, local_date)
    )
    worked = [interval for interval in converted if interval is not None]
    return subtract(worked, (off.interval for off in time_off))
