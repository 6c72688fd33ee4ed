"""Slot finding, pure: what a day looks like for one service, and what to offer instead.

Shared by the hold command (via :func:`find_assignment`) and the live view (via
:func:`day_slots`), so a slot shown as free is exactly a slot a hold would get.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from uuid import UUID
from zoneinfo import ZoneInfo

from slotline.availability.domain.assignment import (
    Calendars,
    Candidates,
    LiveCalendars,
    Pools,
    booking_days,
    candidates,
    choose,
    find_assignment,
    location_limit_reached,
    rejection,
)
from slotline.availability.domain.entries import seats_taken
from slotline.availability.domain.resources import ResourceState
from slotline.availability.domain.rules import (
    RejectionReason,
    candidate_starts,
    check_booking_window,
)
from slotline.availability.domain.schedule import local_date_of
from slotline.availability.domain.values import Interval, ServiceDefinition

__all__ = [
    "Calendars",
    "SlotStatus",
    "SlotView",
    "booking_days",
    "day_slots",
    "find_assignment",
    "nearest_alternatives",
    "offered_starts",
    "slot_view",
]

# Slots that are not offered at all, rather than shown as booked.
_NOT_OFFERED = frozenset(
    {
        RejectionReason.TOO_SHORT_NOTICE,
        RejectionReason.BEYOND_HORIZON,
        RejectionReason.OUTSIDE_HOURS,
    }
)


class SlotStatus(StrEnum):
    AVAILABLE = "available"
    LIMITED = "limited"
    BOOKED = "booked"


@dataclass(frozen=True, slots=True)
class SlotView:
    """One slot of the live view.

    ``free_resources``: resources able to serve it (``free_resource_ids``);
    ``alternatives``: disjoint resource sets, i.e. bookings that could still start
    here side by side; ``seats_left``: for group sessions, seats across those sets
    (``None`` for one-to-one services).
    """

    start: datetime
    end: datetime
    status: SlotStatus
    free_resources: int
    seats_left: int | None
    alternatives: int = 0
    free_resource_ids: tuple[UUID, ...] = ()

    @property
    def bookable(self) -> bool:
        return self.status is not SlotStatus.BOOKED


def _seats_left(
    service: ServiceDefinition,
    slot: Interval,
    assignment: Sequence[UUID],
    zones: Mapping[UUID, ZoneInfo],
    calendars: Calendars,
    now: datetime,
) -> int:
    taken = 0
    for resource_id in assignment:
        view = calendars.get((resource_id, local_date_of(slot.start, zones[resource_id])))
        if view is not None:
            entries = view.live_entries(now)
            taken = max(taken, seats_taken(entries, service.service_id, slot, now))
    return service.capacity - taken


def side_by_side(service: ServiceDefinition, found: Candidates) -> int | None:
    """How many bookings could start here side by side, counted without a search when
    no free resource could serve two of the service's requirements (a therapist and a
    room: the usual case) — then each takes ``count`` of its own pool, and the pools
    run out independently. ``None`` when pools overlap or seats must be counted (a group
    session): :func:`choose` then finds the disjoint sets one by one.

    Why: counting by repeated search was a quarter of the projector's day recompute
    (cProfile, a 20-resource clinic, one hold a batch)."""
    if service.is_group or not found.options:
        return None
    seen: set[UUID] = set()
    for options in found.options:
        ids = {r.resource_id for r in options}
        if ids & seen:
            return None
        seen |= ids
    return min(
        len(options) // requirement.count
        for requirement, options in zip(service.requirements, found.options, strict=True)
    )


def slot_view(
    service: ServiceDefinition,
    slot: Interval,
    resources: Sequence[ResourceState],
    calendars: Calendars,
    now: datetime,
    limited_threshold: int = 2,
    pools: Pools | None = None,
) -> SlotView | None:
    """How ``slot`` looks right now, or ``None`` when it is not offered at all.

    Uses the hold's own rules (window, location limit, :func:`candidates`,
    :func:`choose`), checking each resource once and then counting disjoint sets.
    """
    if not isinstance(calendars, LiveCalendars):
        calendars = LiveCalendars(calendars, now)
    group_seats = 0 if service.is_group else None
    booked = SlotView(slot.start, slot.end, SlotStatus.BOOKED, 0, group_seats)
    window = check_booking_window(service, slot.start, now)
    if window is not None:
        return None if window in _NOT_OFFERED else booked
    if location_limit_reached(service, slot, resources, calendars, now):
        return booked
    found = candidates(service, slot, resources, calendars, now, pools=pools)
    counted = side_by_side(service, found)
    chosen = choose(service, found) if counted is None else None
    if counted == 0 or (counted is None and chosen is None):
        return None if rejection(service, found) in _NOT_OFFERED else booked
    alternatives, seats = counted or 0, 0
    if counted is None:
        zones = {r.resource_id: r.tz for r in resources}
        used: set[UUID] = set()
        while chosen is not None:
            alternatives += 1
            if service.is_group:
                seats += _seats_left(service, slot, chosen, zones, calendars, now)
            used.update(chosen)
            chosen = choose(service, found, exclude=used)
    free_ids = found.free_ids
    remaining = seats if service.is_group else alternatives
    status = SlotStatus.LIMITED if remaining < limited_threshold else SlotStatus.AVAILABLE
    seats_left = seats if service.is_group else None
    return SlotView(slot.start, slot.end, status, len(free_ids), seats_left, alternatives, free_ids)


def day_slots(
    service: ServiceDefinition,
    local_date: date,
    resources: Sequence[ResourceState],
    calendars: Calendars,
    now: datetime,
    tz: ZoneInfo,
    limited_threshold: int = 2,
    starting_within: Interval | None = None,
) -> list[SlotView]:
    """Every offered slot of ``service`` on ``local_date`` (in ``tz``), in time order;
    only those starting within ``starting_within`` when given."""
    calendars = LiveCalendars(calendars, now)
    pools = Pools.of(service, resources)
    # Most resources share their hours: each distinct working time is stepped once.
    hours = {tuple(r.working_around(local_date)) for r in pools.relevant}
    starts = {
        start
        for working in hours
        for start in candidate_starts(service, working, tz, local_date)
        if starting_within is None or starting_within.contains(start)
    }
    views = (
        slot_view(
            service, service.slot_at(start), resources, calendars, now, limited_threshold, pools
        )
        for start in sorted(starts)
    )
    return [view for view in views if view is not None]


def offered_starts(
    service: ServiceDefinition,
    local_date: date,
    resources: Sequence[ResourceState],
    tz: ZoneInfo,
) -> list[datetime]:
    """Every start the slot list steps through for ``service`` on ``local_date``, free
    or not: the service's grid from the start of each qualifying resource's working time
    (what :func:`day_slots` views). A start off it (10:07 on a 15-minute grid) is never
    shown, so a customer is never offered it."""
    qualifying = [r for r in resources if any(r.satisfies(q) for q in service.requirements)]
    hours = {tuple(r.working_around(local_date)) for r in qualifying}
    return sorted(
        {start for working in hours for start in candidate_starts(service, working, tz, local_date)}
    )


NEARBY = timedelta(hours=2)
"""How far either side of a refused start :func:`nearest_alternatives` looks first."""


def nearest_alternatives(
    requested_start: datetime,
    tz: ZoneInfo,
    slots_on: Callable[[date], Sequence[SlotView]],
    last_date: date,
    limit: int = 3,
    slots_near: Callable[[date, Interval], Sequence[SlotView]] | None = None,
) -> list[SlotView]:
    """Up to ``limit`` bookable slots to offer instead of ``requested_start``.

    The same day first, nearest to the requested time (earlier wins a tie), then the
    earliest slots of the following days up to ``last_date`` (the booking horizon).

    ``slots_near`` (the day's slots starting within an interval) lets a refusal look at
    the :data:`NEARBY` hours first instead of the whole day: when they hold ``limit``
    bookable slots, no slot outside is nearer (one outside starts at least ``NEARBY``
    away, and on a tie the earlier, inside, wins), so the answer is the same.
    """
    day = local_date_of(requested_start, tz)

    def nearest(found: Sequence[SlotView]) -> list[SlotView]:
        bookable = [s for s in found if s.bookable and s.start != requested_start]
        return sorted(bookable, key=lambda s: (abs(s.start - requested_start), s.start))[:limit]

    if slots_near is not None:
        around = Interval(requested_start - NEARBY, requested_start + NEARBY)
        chosen = nearest(slots_near(day, around))
        if len(chosen) == limit:
            return chosen
    chosen = nearest(slots_on(day))
    while len(chosen) < limit and day < last_date:
        day += timedelta(days=1)
        chosen += [s for s in slots_on(day) if s.bookable][: limit - len(chosen)]
    return chosen
