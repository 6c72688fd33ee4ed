"""The availability service's use cases: catalog changes and holds.

A hold is placed in one transaction over the ``Hold`` and every ``ResourceDay`` it
touches; two holds racing for a resource day meet at that stream's version, and the
loser re-reads and tries again (bounded). No lock, global or otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import Tracking

from slotline.availability.catalog_admin import CatalogApplication, UnknownItem
from slotline.availability.domain.assignment import booking_days, find_assignment
from slotline.availability.domain.calendar import ResourceDay
from slotline.availability.domain.catalog import Location, Service
from slotline.availability.domain.hold import Hold, HoldExpired, HoldStatus
from slotline.availability.domain.refusal import HoldRefusal
from slotline.availability.domain.reservation import reserve_slot
from slotline.availability.domain.resources import ResourceState
from slotline.availability.domain.roster import Roster
from slotline.availability.domain.rules import RejectionReason, last_bookable_date
from slotline.availability.domain.schedule import local_date_of
from slotline.availability.domain.slots import SlotView, day_slots, nearest_alternatives
from slotline.availability.domain.values import Interval, ServiceDefinition
from slotline.events.store import ServiceApplication

DEFAULT_HOLD_TTL = timedelta(minutes=10)


def utc_now() -> datetime:
    return datetime.now(UTC)


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

    # --- holds -------------------------------------------------------------------

    def place_hold(
        self,
        request: HoldRequest,
        tracking: Tracking | None = None,
        record_refusal: bool = False,
    ) -> HoldTaken | HoldRefused:
        """Hold every resource the service needs at ``request.start``, or say why not.

        A hold key seen before gets the first answer again (requests are retried).
        ``record_refusal`` stores a refusal too, so it is published and remembered.
        """
        return self._optimistically(lambda: self._try_place(request, tracking, record_refusal))

    def _try_place(
        self, request: HoldRequest, tracking: Tracking | None, record_refusal: bool
    ) -> HoldTaken | HoldRefused:
        existing = self._find_outcome(Hold.create_id(request.tenant_id, request.hold_key))
        if isinstance(existing, Hold):
            return _taken(existing)
        if isinstance(existing, HoldRefusal):
            return HoldRefused(existing.reason, existing.alternatives)
        now = self.clock()

        def refuse(reason: RejectionReason, alternatives: list[Interval]) -> HoldRefused:
            if record_refusal:
                refusal = HoldRefusal.record(
                    tenant_id=request.tenant_id,
                    hold_key=request.hold_key,
                    booking_request_id=request.booking_request_id,
                    service_id=request.service_id,
                    location_id=request.location_id,
                    slot=Interval(request.start, request.start + timedelta(minutes=1)),
                    reason=reason,
                    alternatives=alternatives,
                )
                self._save(refusal, tracking=tracking)
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
        calendars = self._calendars_for(definition, resources, slot, location)
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
            return refuse(
                chosen, self._alternatives(definition, location, resources, request.start, now)
            )
        expires_at = now + request.ttl
        hold = Hold.place(
            tenant_id=request.tenant_id,
            hold_key=request.hold_key,
            booking_request_id=request.booking_request_id,
            service_id=request.service_id,
            location_id=request.location_id,
            slot=slot,
            resource_ids=chosen,
            seats=request.seats,
            expires_at=expires_at,
        )
        touched = calendars.reserve(chosen, hold, definition, location, expires_at, now)
        self._save(hold, *touched, tracking=tracking)
        return _taken(hold)

    def confirm_hold(self, hold_id: UUID, tracking: Tracking | None = None) -> Hold:
        """The hold becomes an allocation (raises ``HoldExpired`` when too late)."""

        def confirm(hold: Hold, days: list[ResourceDay], now: datetime) -> list[ResourceDay]:
            hold.confirm(now)
            for day in days:
                day.allocate(hold.id, now)
            return days

        return self._change_hold(hold_id, confirm, tracking)

    def confirm_or_expire(self, hold_id: UUID, tracking: Tracking | None = None) -> Hold:
        """Confirm for a caller that cannot be answered with an error (a command): a
        hold that ran out is expired instead, so the outcome is recorded and published."""
        try:
            return self.confirm_hold(hold_id, tracking)
        except HoldExpired:
            return self.expire_hold(hold_id, tracking)

    def release_hold(
        self, hold_id: UUID, reason: str = "released", tracking: Tracking | None = None
    ) -> Hold:
        """A held slot is given back: the booking did not go ahead."""
        return self._free_hold(hold_id, lambda hold, _: hold.release(reason), reason, tracking)

    def cancel_allocation(
        self, hold_id: UUID, reason: str = "cancelled", tracking: Tracking | None = None
    ) -> Hold:
        """A confirmed allocation is cancelled: its resources are free again."""
        return self._free_hold(hold_id, lambda hold, _: hold.cancel(reason), reason, tracking)

    def expire_hold(self, hold_id: UUID, tracking: Tracking | None = None) -> Hold:
        """A hold whose time ran out gives its resources back."""
        return self._free_hold(hold_id, lambda hold, now: hold.expire(now), "expired", tracking)

    def reschedule_hold(
        self,
        hold_id: UUID,
        start: datetime,
        preferred_staff_id: UUID | None = None,
        tracking: Tracking | None = None,
    ) -> HoldTaken | HoldRefused:
        """Move a hold or allocation to ``start``, atomically: the new slot is reserved
        and the old one freed in one transaction, so the customer never loses the old
        slot without getting the new one. The move may overlap the old slot."""

        def attempt() -> HoldTaken | HoldRefused:
            hold = self.hold(hold_id)
            now = self.clock()
            location: Location = self.repository.get(hold.location_id)
            definition = self._definition(hold.service_id, hold.tenant_id, location.id)
            resources = self._resources_at(location)
            calendars = self._calendars_for(
                definition, resources, definition.slot_at(start), location
            )
            calendars.preload([(r, d) for r in hold.resource_ids for d in self._hold_dates(hold)])
            for resource_id in hold.resource_ids:
                for day in self._hold_dates(hold):
                    calendars[(resource_id, day)].free(hold.id, "rescheduled")
            slot = definition.slot_at(start)
            chosen = find_assignment(
                definition,
                slot,
                resources,
                calendars,
                now,
                seats=hold.seats,
                preferred_staff_id=preferred_staff_id,
            )
            if isinstance(chosen, RejectionReason):
                alternatives = self._alternatives(definition, location, resources, start, now)
                if tracking is not None:  # a command from Kafka: its sender hears back
                    hold.refuse_move(slot, chosen.value, alternatives)
                    self._save(hold, tracking=tracking)
                return HoldRefused(chosen, alternatives)
            confirmed = hold.expires_at is None
            # A held hold keeps its expiry; an allocation's entries are allocated at once.
            entry_expiry = hold.expires_at or now + timedelta(minutes=1)
            hold.reschedule(slot, chosen, now)
            calendars.reserve(chosen, hold, definition, location, entry_expiry, now)
            if confirmed:
                for resource_id in chosen:
                    for day in self._hold_dates(hold):
                        calendars[(resource_id, day)].allocate(hold.id, now)
            self._save(hold, *calendars.loaded_changed(), tracking=tracking)
            return _taken(hold)

        return self._optimistically(attempt)

    def _free_hold(
        self,
        hold_id: UUID,
        end: Callable[[Hold, datetime], None],
        reason: str,
        tracking: Tracking | None,
    ) -> Hold:
        def free(hold: Hold, days: list[ResourceDay], now: datetime) -> list[ResourceDay]:
            end(hold, now)
            if hold.status in (HoldStatus.HELD, HoldStatus.CONFIRMED):
                return []  # a late timer on a confirmed hold frees nothing
            for day in days:
                day.free(hold.id, reason)
            return days

        return self._change_hold(hold_id, free, tracking)

    def _change_hold(
        self,
        hold_id: UUID,
        change: Callable[[Hold, list[ResourceDay], datetime], list[ResourceDay]],
        tracking: Tracking | None,
    ) -> Hold:
        """Apply ``change`` to a hold and its resource days, saved in one transaction."""

        def attempt() -> Hold:
            hold = self.hold(hold_id)
            days = [
                self._resource_day(resource_id, day)
                for resource_id in hold.resource_ids
                for day in self._hold_dates(hold)
            ]
            changed = change(hold, days, self.clock())
            self._save(hold, *changed, tracking=tracking)
            return hold

        return self._optimistically(attempt)

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
        location: Location = self.repository.get(location_id)
        service = self._get(Service, service_id)
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
    ) -> list[SlotView]:
        calendars = _LazyCalendars(self._resource_day, self._resource_days)
        calendars.preload(
            [
                (r.resource_id, day + timedelta(days=offset))
                for r in resources
                if any(r.satisfies(q) for q in definition.requirements)
                for offset in (-1, 0, 1)
            ]
        )
        return day_slots(definition, day, resources, calendars, now, location.tz)

    # --- helpers -----------------------------------------------------------------

    def _save(self, *aggregates: Any, tracking: Tracking | None) -> None:
        if tracking is None:
            self.save(*aggregates)
        else:
            self.save_tracked(*aggregates, tracking=tracking)

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
        roster: Roster = self.repository.get(Roster.create_id(location.id))
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
        definition: ServiceDefinition,
        resources: Sequence[ResourceState],
        slot: Interval,
        location: Location,
    ) -> _LazyCalendars:
        """The calendars slot finding will read for ``slot``, loaded in one query."""
        calendars = _LazyCalendars(self._resource_day, self._resource_days)
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

    def _resource_days(
        self, keys: Sequence[tuple[UUID, date]]
    ) -> dict[tuple[UUID, date], ResourceDay]:
        ids = {ResourceDay.create_id(r, d): (r, d) for r, d in keys}
        found = self.get_many(list(ids))
        return {key: found.get(day_id) or ResourceDay.open(*key) for day_id, key in ids.items()}

    def _resource_day(self, resource_id: UUID, day: date) -> ResourceDay:
        try:
            calendar: ResourceDay = self.repository.get(ResourceDay.create_id(resource_id, day))
        except AggregateNotFoundError:
            calendar = ResourceDay.open(resource_id, day)
        return calendar

    def _hold_dates(self, hold: Hold) -> list[date]:
        location: Location = self.repository.get(hold.location_id)
        service: Service = self.repository.get(Service.create_id(hold.service_id))
        occupied = service.definition.occupied(hold.slot)
        return [d for d, _ in booking_days(occupied, hold.slot, location.tz)]

    def _alternatives(
        self,
        definition: ServiceDefinition,
        location: Location,
        resources: Sequence[ResourceState],
        start: datetime,
        now: datetime,
    ) -> list[Interval]:
        tz = location.tz

        def slots(day: date) -> list[SlotView]:
            return self._day_slots(definition, location, resources, day, now)

        last = min(
            last_bookable_date(definition, now, tz), local_date_of(start, tz) + timedelta(days=7)
        )
        return [Interval(s.start, s.end) for s in nearest_alternatives(start, tz, slots, last)]

    def _find_hold(self, hold_id: UUID) -> Hold | None:
        found = self._find_outcome(hold_id)
        return found if isinstance(found, Hold) else None

    def _find_outcome(self, hold_id: UUID) -> Hold | HoldRefusal | None:
        try:
            found: Any = self.repository.get(hold_id)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, Hold | HoldRefusal) else None


class _LazyCalendars(Mapping[tuple[UUID, date], ResourceDay]):
    """Resource days loaded the first time slot finding looks at them, then kept, so a
    hold reads only the calendars its candidates need and saves the ones it changed."""

    def __init__(
        self,
        load: Callable[[UUID, date], ResourceDay],
        load_many: Callable[[Sequence[tuple[UUID, date]]], dict[tuple[UUID, date], ResourceDay]],
    ) -> None:
        self._load = load
        self._load_many = load_many
        self._loaded: dict[tuple[UUID, date], ResourceDay] = {}

    def preload(self, keys: Sequence[tuple[UUID, date]]) -> None:
        """Load these calendars now, in one query."""
        missing = [key for key in dict.fromkeys(keys) if key not in self._loaded]
        if missing:
            self._loaded.update(self._load_many(missing))

    def __getitem__(self, key: tuple[UUID, date]) -> ResourceDay:
        if key not in self._loaded:
            self._loaded[key] = self._load(*key)
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

    def loaded_changed(self) -> list[ResourceDay]:
        """The loaded resource days with unsaved changes."""
        return [
            day
            for day in self._loaded.values()
            if any(type(e).__qualname__ != "ResourceDay.Opened" for e in day.pending_events)
        ]


def _taken(hold: Hold) -> HoldTaken:
    return HoldTaken(hold.id, hold.slot, hold.resource_ids, hold.expires_at)
