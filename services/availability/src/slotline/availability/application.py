"""The availability service's use cases: catalog changes and holds.

A hold is placed in one unit of work over the ``Hold`` and every ``ResourceDay`` it
touches. Holds applied together (a batch of commands) share the work, so the second
sees the first's reservation in memory; two units of work racing for a resource day
meet at that stream's version, and the loser is redone on fresh state (bounded). No
lock, global or otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import ClassVar
from uuid import UUID

from slotline.availability.catalog_admin import CatalogApplication, UnknownItem
from slotline.availability.day_memo import DayViewMemo
from slotline.availability.domain.assignment import booking_days, find_assignment
from slotline.availability.domain.calendar import ResourceDay
from slotline.availability.domain.catalog import Location, Service
from slotline.availability.domain.entries import CalendarView, DayEntries
from slotline.availability.domain.hold import Hold, HoldExpired, HoldStatus
from slotline.availability.domain.refusal import HoldRefusal
from slotline.availability.domain.reservation import reserve_slot
from slotline.availability.domain.resources import ResourceState
from slotline.availability.domain.roster import Roster
from slotline.availability.domain.rules import RejectionReason, last_bookable_date
from slotline.availability.domain.schedule import local_date_of
from slotline.availability.domain.slots import SlotView, day_slots, nearest_alternatives
from slotline.availability.domain.values import Interval, ServiceDefinition
from slotline.events.clock import utc_now
from slotline.events.store import ServiceApplication
from slotline.events.unit_of_work import UnitOfWork

DEFAULT_HOLD_TTL = timedelta(minutes=10)


@dataclass(frozen=True)
class HoldRequest:
    """What a caller asks availability to hold."""

    tenant_id: str
    hold_key: str  # the caller's id for the hold: the same key never holds twice
    service_id: UUID
    location_id: UUID
    start: datetime
    seats: int = 1
    ttl: timedelta = DEFAULT_HOLD_TTL
    preferred_staff_id: UUID | None = None
    booking_request_id: str | None = None


@dataclass(frozen=True)
class HoldTaken:
    hold_id: UUID
    slot: Interval
    resource_ids: tuple[UUID, ...]
    expires_at: datetime | None  # None once confirmed: an allocation does not expire


@dataclass(frozen=True)
class HoldRefused:
    reason: RejectionReason
    alternatives: list[Interval]  # nearest bookable slots, closest first


class UnknownService(UnknownItem):
    """No such service for this tenant and location (or it is retired)."""


class AvailabilityApplication(CatalogApplication):
    """Owns the availability event store (locations, resources, services, holds)."""

    name = "availability"
    env: ClassVar[dict[str, str]] = dict(ServiceApplication.env)

    def __init__(
        self, env: dict[str, str] | None = None, clock: Callable[[], datetime] = utc_now
    ) -> None:
        super().__init__(env=env)
        self.clock = clock
        self._pools: dict[tuple[UUID, int, int], list[ResourceState]] = {}
        self.day_views = DayViewMemo()

    # --- holds -------------------------------------------------------------------
    #
    # Every hold use case acts in a unit of work: alone (its own transaction, retried on
    # a lost race) or, given ``work``, inside a group's (the inbox applies a batch of hold
    # commands in one; two of them on one resource day meet in memory, not in a race).

    def place_hold(
        self, request: HoldRequest, record_refusal: bool = False, work: UnitOfWork | None = None
    ) -> HoldTaken | HoldRefused:
        """Hold every resource the service needs at ``request.start``, or say why not.

        A hold key seen before gets the first answer again (requests are retried).
        ``record_refusal`` stores a refusal too, so it is published and remembered.
        """
        return self.in_work(work, lambda w: self._place(w, request, record_refusal))

    def _place(
        self, work: UnitOfWork, request: HoldRequest, record_refusal: bool
    ) -> HoldTaken | HoldRefused:
        hold_id = Hold.create_id(request.tenant_id, request.hold_key)
        existing = work.get_many([hold_id]).get(hold_id)
        if isinstance(existing, Hold):
            return _taken(existing)
        if isinstance(existing, HoldRefusal):
            return HoldRefused(existing.reason, existing.alternatives)
        now = self.clock()

        def refuse(reason: RejectionReason, alternatives: list[Interval]) -> HoldRefused:
            if record_refusal:
                work.add(
                    HoldRefusal.record(
                        tenant_id=request.tenant_id,
                        hold_key=request.hold_key,
                        booking_request_id=request.booking_request_id,
                        service_id=request.service_id,
                        location_id=request.location_id,
                        slot=Interval(request.start, request.start + timedelta(minutes=1)),
                        reason=reason,
                        alternatives=alternatives,
                    )
                )
            return HoldRefused(reason, alternatives)

        try:
            location = self.location(request.tenant_id, request.location_id)
            definition = self._definition(request.service_id, request.tenant_id, location.id)
        except UnknownItem:
            if not record_refusal:
                raise
            return refuse(RejectionReason.UNKNOWN_SERVICE, [])
        resources = self._resources_at(location)
        slot = definition.slot_at(request.start)
        calendars = self._calendars_for(work, definition, resources, slot, location)
        chosen = find_assignment(
            definition,
            slot,
            resources,
            calendars,
            now,
            seats=request.seats,
            preferred_staff_id=request.preferred_staff_id,
        )
        if isinstance(chosen, RejectionReason):
            alternatives = self._alternatives(
                work, definition, location, resources, request.start, now
            )
            return refuse(chosen, alternatives)
        hold = Hold.place(
            tenant_id=request.tenant_id,
            hold_key=request.hold_key,
            booking_request_id=request.booking_request_id,
            service_id=request.service_id,
            location_id=request.location_id,
            slot=slot,
            resource_ids=chosen,
            seats=request.seats,
            expires_at=now + request.ttl,
        )
        work.add(hold)
        calendars.reserve(chosen, hold, definition, location, now + request.ttl, now)
        return _taken(hold)

    def confirm_hold(self, hold_id: UUID, work: UnitOfWork | None = None) -> Hold:
        """The hold becomes an allocation (raises ``HoldExpired`` when too late)."""

        def confirm(hold: Hold, days: list[ResourceDay], now: datetime) -> None:
            hold.confirm(now)
            for day in days:
                day.allocate(hold.id, now)

        return self._change_hold(work, hold_id, confirm)

    def confirm_or_expire(self, hold_id: UUID, work: UnitOfWork | None = None) -> Hold:
        """Confirm for a caller that cannot be answered with an error (a command): a
        hold that ran out is expired instead, so the outcome is recorded and published."""

        def decide(hold: Hold, days: list[ResourceDay], now: datetime) -> None:
            try:
                hold.confirm(now)
            except HoldExpired:
                hold.expire(now)
                for day in days:
                    day.free(hold.id, "expired")
                return
            for day in days:
                day.allocate(hold.id, now)

        return self._change_hold(work, hold_id, decide)

    def release_hold(
        self, hold_id: UUID, reason: str = "released", work: UnitOfWork | None = None
    ) -> Hold:
        """A held slot is given back: the booking did not go ahead."""
        return self._free_hold(work, hold_id, lambda hold, _: hold.release(reason), reason)

    def cancel_allocation(
        self, hold_id: UUID, reason: str = "cancelled", work: UnitOfWork | None = None
    ) -> Hold:
        """A confirmed allocation is cancelled: its resources are free again."""
        return self._free_hold(work, hold_id, lambda hold, _: hold.cancel(reason), reason)

    def expire_hold(self, hold_id: UUID, work: UnitOfWork | None = None) -> Hold:
        """A hold whose time ran out gives its resources back."""
        return self._free_hold(work, hold_id, lambda hold, now: hold.expire(now), "expired")

    def reschedule_hold(
        self,
        hold_id: UUID,
        start: datetime,
        preferred_staff_id: UUID | None = None,
        record_refusal: bool = False,
        work: UnitOfWork | None = None,
    ) -> HoldTaken | HoldRefused:
        """Move a hold or allocation to ``start``, atomically: the new slot is reserved
        and the old one freed in one transaction, so the customer never loses the old
        slot without getting the new one. The move may overlap the old slot.
        ``record_refusal`` records a refused move on the hold (a command's sender hears
        of it from the published event)."""

        def attempt(work: UnitOfWork) -> HoldTaken | HoldRefused:
            hold = self._hold_in(work, hold_id)
            now = self.clock()
            location = self._get(Location, hold.location_id)
            definition = self._definition(hold.service_id, hold.tenant_id, location.id)
            resources = self._resources_at(location)
            slot = definition.slot_at(start)
            calendars = self._calendars_for(work, definition, resources, slot, location)
            old_days = [(r, d) for r in hold.resource_ids for d in self._hold_dates(hold)]
            calendars.preload(old_days)
            chosen = find_assignment(  # decided as if the hold were not there yet
                definition,
                slot,
                resources,
                _WithoutHold(calendars, hold.id),
                now,
                seats=hold.seats,
                preferred_staff_id=preferred_staff_id,
            )
            if isinstance(chosen, RejectionReason):
                alternatives = self._alternatives(work, definition, location, resources, start, now)
                if record_refusal:
                    hold.refuse_move(slot, chosen.value, alternatives)
                return HoldRefused(chosen, alternatives)
            for key in old_days:
                calendars[key].free(hold.id, "rescheduled")
            confirmed = hold.expires_at is None
            # A held hold keeps its expiry; an allocation's entries are allocated at once.
            entry_expiry = hold.expires_at or now + timedelta(minutes=1)
            hold.reschedule(slot, chosen, now)
            calendars.reserve(chosen, hold, definition, location, entry_expiry, now)
            if confirmed:
                for resource_id in chosen:
                    for day in self._hold_dates(hold):
                        calendars[(resource_id, day)].allocate(hold.id, now)
            return _taken(hold)

        return self.in_work(work, attempt)

    def _free_hold(
        self,
        work: UnitOfWork | None,
        hold_id: UUID,
        end: Callable[[Hold, datetime], None],
        reason: str,
    ) -> Hold:
        def free(hold: Hold, days: list[ResourceDay], now: datetime) -> None:
            end(hold, now)
            if hold.status in (HoldStatus.HELD, HoldStatus.CONFIRMED):
                return  # a late timer on a confirmed hold frees nothing
            for day in days:
                day.free(hold.id, reason)

        return self._change_hold(work, hold_id, free)

    def _change_hold(
        self,
        work: UnitOfWork | None,
        hold_id: UUID,
        change: Callable[[Hold, list[ResourceDay], datetime], None],
    ) -> Hold:
        """Apply ``change`` to a hold and its resource days, in one unit of work."""

        def attempt(work: UnitOfWork) -> Hold:
            hold = self._hold_in(work, hold_id)
            keys = [(r, d) for r in hold.resource_ids for d in self._hold_dates(hold)]
            days = _days_in(work, keys)
            change(hold, [days[key] for key in keys], self.clock())
            return hold

        return self.in_work(work, attempt)

    def _hold_in(self, work: UnitOfWork, hold_id: UUID) -> Hold:
        hold = work.get(Hold, hold_id)
        if hold is None:
            raise UnknownItem(f"no hold {hold_id}")
        return hold

    # --- queries -----------------------------------------------------------------

    def hold(self, hold_id: UUID) -> Hold:
        hold = self._find_hold(hold_id)
        if hold is None:
            raise UnknownItem(f"no hold {hold_id}")
        return hold

    def tenant_hold(self, tenant_id: str, hold_key: str) -> Hold:
        """The hold a tenant placed under ``hold_key``."""
        return self.hold(Hold.create_id(tenant_id, hold_key))

    def slots_on(self, service_id: UUID, location_id: UUID, day: date) -> list[SlotView]:
        """A day's slots computed from the aggregates (the live view stores these)."""
        location = self._get(Location, location_id)
        service = self._get(Service, Service.create_id(service_id))
        definition = self._definition(service_id, service.tenant_id, location.id)
        resources = self._resources_at(location)
        return self._day_slots(definition, location, resources, day, self.clock())

    def _day_slots(
        self,
        definition: ServiceDefinition,
        location: Location,
        resources: Sequence[ResourceState],
        day: date,
        now: datetime,
        work: UnitOfWork | None = None,
        *,
        memo: bool = False,
    ) -> list[SlotView]:
        """``memo``: an offer may reuse the same day worked out a moment ago for the
        same calendars (:class:`DayViewMemo`)."""
        calendars = self._calendars(work)
        keys = [
            (r.resource_id, day + timedelta(days=offset))
            for r in resources
            if any(r.satisfies(q) for q in definition.requirements)
            for offset in (-1, 0, 1)
        ]
        calendars.preload(keys)

        def compute() -> list[SlotView]:
            return day_slots(definition, day, resources, calendars, now, location.tz)

        if not memo:
            return compute()
        state = _states(calendars, keys)
        key = (definition, location.id, location.tz, day, tuple(resources), state)
        return self.day_views.day(key, now, compute)

    # --- helpers -----------------------------------------------------------------

    def _definition(self, service_id: UUID, tenant_id: str, location_id: UUID) -> ServiceDefinition:
        try:
            service = self.service(tenant_id, service_id)
        except UnknownItem:
            raise UnknownService(f"no service {service_id}") from None
        if service.retired:
            raise UnknownService(f"service {service_id} is retired")
        if service.location_id != location_id:
            raise UnknownService(f"service {service_id} is not offered at {location_id}")
        return service.definition

    def _resources_at(self, location: Location) -> list[ResourceState]:
        """The location's active resources; re-read only when its roster moved on (every
        resource change notes itself there), so a hold reads one roster, not N resources."""
        roster = self._get(Roster, Roster.create_id(location.id))
        key = (location.id, location.version, roster.version)
        states = self._pools.get(key)
        if states is None:
            states = [
                r.state(location.tz)
                for r in self.resources_at(location.tenant_id, location.id)
                if not r.retired
            ]
            if len(self._pools) > 1000:
                self._pools.clear()
            self._pools[key] = states
        return states

    def _calendars_for(
        self,
        work: UnitOfWork,
        definition: ServiceDefinition,
        resources: Sequence[ResourceState],
        slot: Interval,
        location: Location,
    ) -> _LazyCalendars:
        """The calendars slot finding will read for ``slot``, loaded in one query."""
        calendars = self._calendars(work)
        days = [d for d, _ in booking_days(definition.occupied(slot), slot, location.tz)]
        calendars.preload(
            [
                (r.resource_id, day)
                for r in resources
                if any(r.satisfies(q) for q in definition.requirements)
                for day in days
            ]
        )
        return calendars

    def _calendars(self, work: UnitOfWork | None) -> _LazyCalendars:
        """Resource days as ``work`` sees them (with the group's changes), or as stored."""
        if work is not None:
            return _LazyCalendars(lambda keys: _days_in(work, keys))
        return _LazyCalendars(self._stored_days)

    def _stored_days(
        self, keys: Sequence[tuple[UUID, date]]
    ) -> dict[tuple[UUID, date], ResourceDay]:
        ids = {ResourceDay.create_id(r, d): (r, d) for r, d in keys}
        found = self.get_many(list(ids))
        return {key: found.get(day_id) or ResourceDay.open(*key) for day_id, key in ids.items()}

    def _hold_dates(self, hold: Hold) -> list[date]:
        location = self._get(Location, hold.location_id)
        service = self._get(Service, Service.create_id(hold.service_id))
        occupied = service.definition.occupied(hold.slot)
        return [d for d, _ in booking_days(occupied, hold.slot, location.tz)]

    def _alternatives(
        self,
        work: UnitOfWork,
        definition: ServiceDefinition,
        location: Location,
        resources: Sequence[ResourceState],
        start: datetime,
        now: datetime,
    ) -> list[Interval]:
        tz = location.tz

        def slots(day: date) -> list[SlotView]:
            return self._day_slots(definition, location, resources, day, now, work, memo=True)

        last = min(
            last_bookable_date(definition, now, tz), local_date_of(start, tz) + timedelta(days=7)
        )
        return [Interval(s.start, s.end) for s in nearest_alternatives(start, tz, slots, last)]

    def _find_hold(self, hold_id: UUID) -> Hold | None:
        found = self.get_many([hold_id]).get(hold_id)
        return found if isinstance(found, Hold) else None


def _states(
    calendars: Mapping[tuple[UUID, date], ResourceDay], keys: Sequence[tuple[UUID, date]]
) -> tuple[Hashable, ...]:
    """What identifies the state of these calendars: each one's version and, for changes
    not committed yet (a group can roll back and redo them), its newest event's time."""
    states: list[Hashable] = []
    for key in keys:
        day = calendars[key]
        pending = day.pending_events
        if day.version == 1 and len(pending) == 1:
            states.append("empty")  # a day never written, opened only to be looked at
        else:
            states.append((day.version, pending[-1].timestamp if pending else None))
    return tuple(states)


def _days_in(
    work: UnitOfWork, keys: Sequence[tuple[UUID, date]]
) -> dict[tuple[UUID, date], ResourceDay]:
    """Resource days through ``work``: a day never written is opened there (and saved
    only if something is reserved on it), so the group's use cases share each day."""
    ids = {ResourceDay.create_id(r, d): (r, d) for r, d in keys}
    found = work.get_many(ids)
    days: dict[tuple[UUID, date], ResourceDay] = {}
    for day_id, key in ids.items():
        day = found.get(day_id)
        if not isinstance(day, ResourceDay):
            day = ResourceDay.open(*key)
            work.open(day)
        days[key] = day
    return days


class _WithoutHold(Mapping[tuple[UUID, date], CalendarView]):
    """Calendars as they would be without one hold: a move is decided against this
    before anything changes, so a refused move leaves the hold where it was."""

    def __init__(self, calendars: Mapping[tuple[UUID, date], ResourceDay], hold_id: UUID) -> None:
        self._calendars = calendars
        self._hold_id = hold_id

    def __getitem__(self, key: tuple[UUID, date]) -> CalendarView:
        return DayEntries(
            tuple(e for e in self._calendars[key].entries.values() if e.hold_id != self._hold_id)
        )

    def __iter__(self) -> Iterator[tuple[UUID, date]]:
        return iter(self._calendars)

    def __len__(self) -> int:
        return len(self._calendars)


class _LazyCalendars(Mapping[tuple[UUID, date], ResourceDay]):
    """Resource days loaded the first time slot finding looks at them, then kept, so a
    hold reads only the calendars its candidates need and saves the ones it changed."""

    def __init__(
        self,
        load_many: Callable[[Sequence[tuple[UUID, date]]], dict[tuple[UUID, date], ResourceDay]],
    ) -> None:
        self._load_many = load_many
        self._loaded: dict[tuple[UUID, date], ResourceDay] = {}

    def preload(self, keys: Sequence[tuple[UUID, date]]) -> None:
        """Load these calendars now, in one query."""
        missing = [key for key in dict.fromkeys(keys) if key not in self._loaded]
        if missing:
            self._loaded.update(self._load_many(missing))

    def __getitem__(self, key: tuple[UUID, date]) -> ResourceDay:
        if key not in self._loaded:
            self._loaded.update(self._load_many([key]))
        return self._loaded[key]

    def __iter__(self) -> Iterator[tuple[UUID, date]]:
        return iter(self._loaded)

    def __len__(self) -> int:
        return len(self._loaded)

    def reserve(
        self,
        resource_ids: Sequence[UUID],
        hold: Hold,
        definition: ServiceDefinition,
        location: Location,
        expires_at: datetime,
        now: datetime,
    ) -> list[ResourceDay]:
        """Reserve the hold's slot on these resources' days; returns the days changed."""
        return reserve_slot(
            lambda resource_id, day: self[(resource_id, day)],
            resource_ids,
            hold.id,
            definition,
            hold.slot,
            location.tz,
            seats=hold.seats,
            expires_at=expires_at,
            now=now,
            max_per_day=definition.max_per_day_per_resource,
        )


def _taken(hold: Hold) -> HoldTaken:
    return HoldTaken(hold.id, hold.slot, hold.resource_ids, hold.expires_at)
