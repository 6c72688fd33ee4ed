"""The availability service's use cases: catalog changes and holds.

A hold is placed in one transaction over the ``Hold`` and every ``ResourceDay`` it
touches; two holds racing for a resource day meet at that stream's version, and the
loser re-reads and tries again (bounded). No lock, global or otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError, Tracking
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

from slotline.availability.domain.assignment import booking_days, find_assignment
from slotline.availability.domain.calendar import ResourceDay
from slotline.availability.domain.catalog import Location, Resource, Service
from slotline.availability.domain.hold import Hold
from slotline.availability.domain.reservation import reserve_slot
from slotline.availability.domain.resources import ResourceState
from slotline.availability.domain.roster import Roster
from slotline.availability.domain.rules import RejectionReason, last_bookable_date
from slotline.availability.domain.schedule import local_date_of
from slotline.availability.domain.slots import SlotView, day_slots, nearest_alternatives
from slotline.availability.domain.values import (
    DateOverride,
    Interval,
    ResourceKind,
    ServiceDefinition,
    TimeOff,
    WeeklyHours,
)
from slotline.events.store import ServiceApplication

DEFAULT_HOLD_TTL = timedelta(minutes=10)
T = TypeVar("T")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class HoldRequest:
    """What a caller asks availability to hold."""

    tenant_id: UUID
    request_id: str
    service_id: UUID
    location_id: UUID
    start: datetime
    seats: int = 1
    ttl: timedelta = DEFAULT_HOLD_TTL
    preferred_staff_id: UUID | None = None


@dataclass(frozen=True)
class HoldTaken:
    hold_id: UUID
    slot: Interval
    resource_ids: tuple[UUID, ...]
    expires_at: datetime | None  # None once confirmed: an allocation does not expire


@dataclass(frozen=True)
class HoldRefused:
    reason: RejectionReason
    alternatives: list[SlotView]


class UnknownService(LookupError):
    """No such service (or it is retired)."""


class AvailabilityApplication(ServiceApplication):
    """Owns the availability event store (locations, resources, services, holds)."""

    name = "availability"
    env: ClassVar[dict[str, str]] = dict(ServiceApplication.env)
    max_attempts: ClassVar[int] = 10

    def __init__(
        self, env: dict[str, str] | None = None, clock: Callable[[], datetime] = utc_now
    ) -> None:
        super().__init__(env=env)
        self.clock = clock

    # --- catalog ---------------------------------------------------------------

    def register_location(self, tenant_id: UUID, name: str, timezone: str) -> UUID:
        location = Location.register(tenant_id, name, timezone)
        self.save(location, Roster(location.id))
        return location.id

    def register_resource(
        self,
        tenant_id: UUID,
        location_id: UUID,
        kind: ResourceKind,
        name: str,
        tags: Sequence[str],
        weekly: WeeklyHours,
        overrides: Sequence[DateOverride] = (),
        time_off: Sequence[TimeOff] = (),
    ) -> UUID:
        self.repository.get(location_id)  # must exist
        resource = Resource.register(
            tenant_id, location_id, kind, name, tags, weekly, overrides, time_off
        )
        roster: Roster = self.repository.get(Roster.create_id(location_id))
        roster.enlist(resource.id)
        self.save(resource, roster)
        return resource.id

    def define_service(
        self, tenant_id: UUID, location_id: UUID, name: str, definition: ServiceDefinition
    ) -> UUID:
        self.repository.get(location_id)
        service = Service.register(tenant_id, name, definition)
        self.save(service)
        return service.id

    # --- holds -------------------------------------------------------------------

    def place_hold(
        self, request: HoldRequest, tracking: Tracking | None = None
    ) -> HoldTaken | HoldRefused:
        """Hold every resource the service needs at ``request.start``, or say why not.

        A request id seen before returns the hold it placed (requests are retried).
        """
        return self._optimistically(lambda: self._try_place(request, tracking))

    def _try_place(
        self, request: HoldRequest, tracking: Tracking | None
    ) -> HoldTaken | HoldRefused:
        existing = self._find_hold(Hold.create_id(request.tenant_id, request.request_id))
        if existing is not None:
            return _taken(existing)
        now = self.clock()
        definition = self._definition(request.service_id)
        location: Location = self.repository.get(request.location_id)
        resources = self._resources_at(location)
        slot = definition.slot_at(request.start)
        days = [d for d, _ in booking_days(definition.occupied(slot), slot, location.tz)]
        calendars = self._calendars(resources, days)
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
            alternatives = self._alternatives(definition, location, resources, request.start, now)
            return HoldRefused(chosen, alternatives)
        hold = Hold.place(
            tenant_id=request.tenant_id,
            request_id=request.request_id,
            service_id=request.service_id,
            location_id=request.location_id,
            slot=slot,
            resource_ids=chosen,
            seats=request.seats,
            expires_at=now + request.ttl,
        )
        touched = reserve_slot(
            lambda resource_id, day: calendars[(resource_id, day)],
            chosen,
            hold.id,
            definition,
            slot,
            location.tz,
            seats=request.seats,
            expires_at=now + request.ttl,
            now=now,
            max_per_day=definition.max_per_day_per_resource,
        )
        self._save(hold, *touched, tracking=tracking)
        return _taken(hold)

    def confirm_hold(self, hold_id: UUID, tracking: Tracking | None = None) -> Hold:
        """The hold becomes an allocation (raises ``HoldExpired`` when too late)."""

        def confirm(hold: Hold, days: list[ResourceDay], now: datetime) -> None:
            hold.confirm(now)
            for day in days:
                day.allocate(hold.id, now)

        return self._change_hold(hold_id, confirm, tracking)

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

    def expire_hold(self, hold_id: UUID) -> Hold:
        """A hold whose time ran out gives its resources back."""
        return self._free_hold(hold_id, lambda hold, now: hold.expire(now), "expired", None)

    def _free_hold(
        self,
        hold_id: UUID,
        end: Callable[[Hold, datetime], None],
        reason: str,
        tracking: Tracking | None,
    ) -> Hold:
        def free(hold: Hold, days: list[ResourceDay], now: datetime) -> None:
            end(hold, now)
            for day in days:
                day.free(hold.id, reason)

        return self._change_hold(hold_id, free, tracking)

    def _change_hold(
        self,
        hold_id: UUID,
        change: Callable[[Hold, list[ResourceDay], datetime], None],
        tracking: Tracking | None,
    ) -> Hold:
        """Apply ``change`` to a hold and its resource days, saved in one transaction."""

        def attempt() -> Hold:
            hold: Hold = self.repository.get(hold_id)
            days = [
                self._resource_day(resource_id, day)
                for resource_id in hold.resource_ids
                for day in self._hold_dates(hold)
            ]
            change(hold, days, self.clock())
            self._save(hold, *days, tracking=tracking)
            return hold

        return self._optimistically(attempt)

    def _optimistically(self, attempt: Callable[[], T]) -> T:
        """Run ``attempt`` again on a version conflict, re-reading the streams (bounded)."""
        try:
            for retry in Retrying(
                retry=retry_if_exception_type(IntegrityError),
                stop=stop_after_attempt(self.max_attempts),
                reraise=True,
            ):
                with retry:
                    return attempt()
        except IntegrityError as error:
            raise ContentionTooHigh(f"{self.max_attempts} conflicting attempts") from error
        raise AssertionError("unreachable: Retrying either returns or raises")

    # --- queries -----------------------------------------------------------------

    def hold(self, hold_id: UUID) -> Hold:
        return self.repository.get(hold_id)  # type: ignore[no-any-return]

    def slots_on(self, service_id: UUID, location_id: UUID, day: date) -> list[SlotView]:
        """A day's slots computed from the aggregates (the projection serves reads)."""
        definition = self._definition(service_id)
        location: Location = self.repository.get(location_id)
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
        # A padded slot may reach into the neighbouring days' calendars.
        neighbours = [day - timedelta(days=1), day, day + timedelta(days=1)]
        calendars = self._calendars(resources, neighbours)
        return day_slots(definition, day, resources, calendars, now, location.tz)

    # --- helpers -----------------------------------------------------------------

    def _save(self, *aggregates: Any, tracking: Tracking | None) -> None:
        if tracking is None:
            self.save(*aggregates)
        else:
            self.save_tracked(*aggregates, tracking=tracking)

    def _definition(self, service_id: UUID) -> ServiceDefinition:
        try:
            service: Service = self.repository.get(Service.create_id(service_id))
        except AggregateNotFoundError:
            raise UnknownService(f"no service {service_id}") from None
        if service.retired:
            raise UnknownService(f"service {service_id} is retired")
        return service.definition

    def _resources_at(self, location: Location) -> list[ResourceState]:
        roster: Roster = self.repository.get(Roster.create_id(location.id))
        resources: list[Resource] = [self.repository.get(rid) for rid in roster.resource_ids]
        return [r.state(location.tz) for r in resources if not r.retired]

    def _calendars(
        self, resources: Sequence[ResourceState], days: Sequence[date]
    ) -> dict[tuple[UUID, date], ResourceDay]:
        return {
            (r.resource_id, day): self._resource_day(r.resource_id, day)
            for r in resources
            for day in days
        }

    def _resource_day(self, resource_id: UUID, day: date) -> ResourceDay:
        try:
            calendar: ResourceDay = self.repository.get(ResourceDay.create_id(resource_id, day))
        except AggregateNotFoundError:
            calendar = ResourceDay.open(resource_id, day)
        return calendar

    def _hold_dates(self, hold: Hold) -> list[date]:
        location: Location = self.repository.get(hold.location_id)
        definition = self._definition(hold.service_id)
        occupied = definition.occupied(hold.slot)
        return [d for d, _ in booking_days(occupied, hold.slot, location.tz)]

    def _alternatives(
        self,
        definition: ServiceDefinition,
        location: Location,
        resources: Sequence[ResourceState],
        start: datetime,
        now: datetime,
    ) -> list[SlotView]:
        tz = location.tz

        def slots(day: date) -> list[SlotView]:
            return self._day_slots(definition, location, resources, day, now)

        last = min(
            last_bookable_date(definition, now, tz), local_date_of(start, tz) + timedelta(days=7)
        )
        return nearest_alternatives(start, tz, slots, last)

    def _find_hold(self, hold_id: UUID) -> Hold | None:
        try:
            return self.repository.get(hold_id)  # type: ignore[no-any-return]
        except AggregateNotFoundError:
            return None


class ContentionTooHigh(RuntimeError):
    """Optimistic retries ran out: the caller may try again."""


def _taken(hold: Hold) -> HoldTaken:
    return HoldTaken(hold.id, hold.slot, hold.resource_ids, hold.expires_at)
