"""Resource assignment, pure: which resources can take a slot, or why none can.

Used by the hold command (to choose resources before reserving them) and by the day
view in :mod:`.slots`. Calendars are passed in as a mapping
``(resource_id, local_date) -> calendar``; a missing key is an empty day.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from slotline.availability.domain.entries import (
    CalendarEntry,
    CalendarView,
    check_daily_limit,
    conflict_among,
    live,
    load,
    seats_taken,
    sessions,
)
from slotline.availability.domain.resources import ResourceState
from slotline.availability.domain.rules import RejectionReason, check_booking_window
from slotline.availability.domain.schedule import dates_touched, local_date_of
from slotline.availability.domain.values import Interval, ServiceDefinition

Calendars = Mapping[tuple[UUID, date], CalendarView]

# When several resources fail, the most telling reason wins.
_REASON_RANK = (
    RejectionReason.CAPACITY_FULL,
    RejectionReason.TAKEN,
    RejectionReason.DAILY_LIMIT_REACHED,
    RejectionReason.OUTSIDE_HOURS,
)


class LiveCalendars(Mapping[tuple[UUID, date], CalendarView]):
    """``calendars`` as of ``now``: each day's live entries worked out once, the first
    time slot finding looks at it.

    Why: a day view asks every resource day about every slot; filtering and sorting the
    same entries again each time was a quarter of the projector's slot finding
    (profiled on a 20-resource clinic)."""

    def __init__(self, calendars: Calendars, now: datetime) -> None:
        self._calendars = calendars
        self._now = now
        self._live: dict[tuple[UUID, date], _LiveDay] = {}

    def __getitem__(self, key: tuple[UUID, date]) -> CalendarView:
        day = self._live.get(key)
        if day is None:
            entries = self._calendars[key].live_entries(self._now)
            day = self._live[key] = _LiveDay(self._now, entries)
        return day

    def __iter__(self) -> Iterator[tuple[UUID, date]]:
        return iter(self._calendars)

    def __len__(self) -> int:
        return len(self._calendars)


@dataclass(frozen=True, slots=True)
class _LiveDay:
    """A day's live entries at ``at``, in order; asked about another instant, it
    filters again."""

    at: datetime
    entries: list[CalendarEntry]

    def live_entries(self, now: datetime) -> list[CalendarEntry]:
        return self.entries if now == self.at else live(self.entries, now)


def booking_days(occupied: Interval, slot: Interval, tz: ZoneInfo) -> list[tuple[date, bool]]:
    """The resource days a booking occupies, each with whether it is the day it starts
    on (``primary``: where it counts toward the daily limit)."""
    first = local_date_of(slot.start, tz)
    return [(day, day == first) for day in dates_touched(occupied, tz)]


@dataclass(frozen=True, slots=True)
class SlotReach:
    """What a slot occupies (buffers included) and on which local days: the same for
    every resource of one time zone, so worked out once per slot, not per resource."""

    occupied: Interval
    days: list[tuple[date, bool]]

    @classmethod
    def of(cls, service: ServiceDefinition, slot: Interval, tz: ZoneInfo) -> SlotReach:
        occupied = service.occupied(slot)
        return cls(occupied, booking_days(occupied, slot, tz))


def _entries(
    calendars: Calendars, resource_id: UUID, day: date, now: datetime
) -> list[CalendarEntry]:
    view = calendars.get((resource_id, day))
    return view.live_entries(now) if view is not None else []


def resource_fit(
    resource: ResourceState,
    service: ServiceDefinition,
    slot: Interval,
    calendars: Calendars,
    now: datetime,
    seats: int = 1,
    reach: SlotReach | None = None,
) -> RejectionReason | None:
    """Why ``resource`` cannot serve ``slot`` (hours, overlap, seats, limit), or ``None``.
    ``reach``: the slot's occupied time and days, when the caller worked them out."""
    reach = reach or SlotReach.of(service, slot, resource.tz)
    occupied = reach.occupied
    if not resource.works_during(occupied):
        return RejectionReason.OUTSIDE_HOURS
    for day, primary in reach.days:
        entries = _entries(calendars, resource.resource_id, day, now)
        conflict = conflict_among(
            entries,
            occupied,
            service_id=service.service_id,
            slot=slot,
            capacity=service.capacity,
            seats=seats,
        )
        if conflict is not None:
            return RejectionReason.CAPACITY_FULL if conflict.full else RejectionReason.TAKEN
        limit = service.max_per_day_per_resource
        over = check_daily_limit(entries, service.service_id, slot, service.capacity, limit, now)
        if primary and over is not None:
            return RejectionReason.DAILY_LIMIT_REACHED
    return None


def location_limit_reached(
    service: ServiceDefinition,
    slot: Interval,
    resources: Iterable[ResourceState],
    calendars: Calendars,
    now: datetime,
) -> bool:
    limit = service.max_per_day_per_location
    if limit is None:
        return False
    booked: set[object] = set()
    for resource in resources:
        day = local_date_of(slot.start, resource.tz)
        booked |= sessions(
            _entries(calendars, resource.resource_id, day, now), service.service_id, now
        )
    return (service.service_id, slot) not in booked and len(booked) >= limit


def _search(
    groups: Sequence[tuple[int, Sequence[ResourceState]]],
    picks: list[tuple[UUID, int]],
    must_include: UUID | None,
) -> bool:
    """Depth-first choice of distinct resources, one per requirement unit, in order."""
    if len(picks) == len(groups):
        return must_include is None or any(rid == must_include for rid, _ in picks)
    group, options = groups[len(picks)]
    same_group = len(picks) > 0 and groups[len(picks) - 1][0] == group
    first = picks[-1][1] + 1 if same_group else 0
    used = {rid for rid, _ in picks}
    for index in range(first, len(options)):
        if options[index].resource_id in used:
            continue
        picks.append((options[index].resource_id, index))
        if _search(groups, picks, must_include):
            return True
        picks.pop()
    return False


@dataclass(frozen=True)
class Candidates:
    """The resources that could serve one slot: why each cannot (``fits``, ``None`` =
    it can), and per requirement the ones that can, in order of preference."""

    relevant: list[ResourceState]
    fits: dict[UUID, RejectionReason | None]
    options: list[list[ResourceState]]

    @property
    def free_ids(self) -> tuple[UUID, ...]:
        return tuple(r.resource_id for r in self.relevant if self.fits[r.resource_id] is None)


def candidates(
    service: ServiceDefinition,
    slot: Interval,
    resources: Sequence[ResourceState],
    calendars: Calendars,
    now: datetime,
    *,
    seats: int = 1,
    rank: Callable[[ResourceState], Any] | None = None,
    pools: Pools | None = None,
) -> Candidates:
    """Check every qualifying resource against ``slot`` once. ``pools``: the service's
    :class:`Pools` among ``resources``, when the caller views many slots of them."""
    pools = pools or Pools.of(service, resources)
    relevant = pools.relevant
    reaches = {tz: SlotReach.of(service, slot, tz) for tz in {r.tz for r in relevant}}
    fits = {
        r.resource_id: resource_fit(r, service, slot, calendars, now, seats, reaches[r.tz])
        for r in relevant
    }
    options = [[r for r in pool if fits[r.resource_id] is None] for pool in pools.by_requirement]
    if rank is not None:
        options = [sorted(usable, key=rank) for usable in options]
    return Candidates(relevant, fits, options)


def by_id(resource: ResourceState) -> int:
    """The default preference: by id (the same order as the ids' text, as an int)."""
    return resource.resource_id.int


@dataclass(frozen=True)
class Pools:
    """The resources that could serve a service at all: every one, and per requirement
    those it accepts, in the default order — the same for every slot of a day, so a day
    view works them out once (``satisfies`` per resource, requirement and slot was a
    tenth of the projector's day recompute)."""

    relevant: list[ResourceState]
    by_requirement: list[list[ResourceState]]

    @classmethod
    def of(cls, service: ServiceDefinition, resources: Sequence[ResourceState]) -> Pools:
        relevant = [r for r in resources if any(r.satisfies(q) for q in service.requirements)]
        pools = [[r for r in relevant if r.satisfies(q)] for q in service.requirements]
        return cls(relevant, [sorted(pool, key=by_id) for pool in pools])


def choose(
    service: ServiceDefinition,
    found: Candidates,
    *,
    must_include: UUID | None = None,
    exclude: Collection[UUID] = (),
) -> tuple[UUID, ...] | None:
    """Distinct resources for every requirement unit, in preference order, or ``None``."""
    options = [[r for r in usable if r.resource_id not in exclude] for usable in found.options]
    groups = [
        (index, options[index])
        for index, requirement in enumerate(service.requirements)
        for _ in range(requirement.count)
    ]
    enough = all(len(o) >= q.count for q, o in zip(service.requirements, options, strict=True))
    reachable = must_include is None or any(
        r.resource_id == must_include for usable in options for r in usable
    )
    picks: list[tuple[UUID, int]] = []
    if enough and reachable and _search(groups, picks, must_include):
        return tuple(rid for rid, _ in picks)
    return None


def find_assignment(
    service: ServiceDefinition,
    slot: Interval,
    resources: Sequence[ResourceState],
    calendars: Calendars,
    now: datetime,
    *,
    seats: int = 1,
    preferred_staff_id: UUID | None = None,
) -> tuple[UUID, ...] | RejectionReason:
    """The resources to hold for ``slot`` (requirement order), or why there are none.

    For each requirement, ``count`` distinct resources that satisfy it, work through the
    padded slot and are free in every calendar it touches. Ties go to a group session
    already running at that slot, then the preferred staff, then the least loaded
    resource that day, then the lowest id — so the choice is deterministic.

    ``resources`` are the location's (its daily limit counts their calendars).
    """
    window = check_booking_window(service, slot.start, now)
    if window is not None:
        return window
    calendars = LiveCalendars(calendars, now)
    if location_limit_reached(service, slot, resources, calendars, now):
        return RejectionReason.DAILY_LIMIT_REACHED

    def rank(r: ResourceState) -> tuple[int, int, int, int]:
        entries = _entries(calendars, r.resource_id, local_date_of(slot.start, r.tz), now)
        hosting = seats_taken(entries, service.service_id, slot, now) > 0
        preferred = r.resource_id == preferred_staff_id
        return (not hosting, not preferred, load(entries, now), r.resource_id.int)

    found = candidates(service, slot, resources, calendars, now, seats=seats, rank=rank)
    chosen = choose(service, found, must_include=preferred_staff_id)
    if chosen is not None:
        return chosen
    return rejection(service, found, preferred_staff_id)


def rejection(
    service: ServiceDefinition, found: Candidates, preferred_staff_id: UUID | None = None
) -> RejectionReason:
    """Why no resources could be chosen for the slot."""
    return _rejection(service, found.relevant, found.fits, found.options, preferred_staff_id)


def _rejection(
    service: ServiceDefinition,
    relevant: Sequence[ResourceState],
    fits: Mapping[UUID, RejectionReason | None],
    options: Sequence[Sequence[ResourceState]],
    preferred_staff_id: UUID | None,
) -> RejectionReason:
    if preferred_staff_id is not None:
        preferred = fits.get(preferred_staff_id, RejectionReason.OUTSIDE_HOURS)
        if preferred is not None:
            return preferred
    for requirement, usable in zip(service.requirements, options, strict=True):
        if len(usable) >= requirement.count:
            continue
        reasons = {fits[r.resource_id] for r in relevant if r.satisfies(requirement)}
        return next((reason for reason in _REASON_RANK if reason in reasons), _REASON_RANK[-1])
    return RejectionReason.TAKEN
