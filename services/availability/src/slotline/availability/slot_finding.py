"""What availability reads to decide: a service as offered at a location, the
location's resources, their calendars, a day's slots and the nearest free alternatives;
and the holds themselves.

:class:`SlotFinding` is the base of :class:`~.application.AvailabilityApplication`: the
hold use cases (``application.py``) decide with these reads, and the slot view
(``slots_on``) shows them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from uuid import UUID

from slotline.availability.calendars import LazyCalendars, calendar_states, days_in
from slotline.availability.catalog_admin import CatalogApplication, UnknownItem
from slotline.availability.day_memo import DayViewMemo
from slotline.availability.domain.assignment import booking_days
from slotline.availability.domain.calendar import ResourceDay
from slotline.availability.domain.catalog import Location, Service
from slotline.availability.domain.hold import Hold
from slotline.availability.domain.resources import ResourceState
from slotline.availability.domain.roster import Roster
from slotline.availability.domain.rules import last_bookable_date
from slotline.availability.domain.schedule import local_date_of
from slotline.availability.domain.slots import (
    SlotView,
    day_slots,
    nearest_alternatives,
    offered_starts,
)
from slotline.availability.domain.values import Interval, ServiceDefinition
from slotline.events.clock import utc_now
from slotline.events.unit_of_work import UnitOfWork


class UnknownService(UnknownItem):
    """No such service for this tenant and location (or it is retired)."""


class SlotFinding(CatalogApplication):
    """The reads behind every hold decision and the slot view (see the module)."""

    def __init__(
        self, env: dict[str, str] | None = None, clock: Callable[[], datetime] = utc_now
    ) -> None:
        super().__init__(env=env)
        self.clock = clock
        self._pools: dict[tuple[UUID, int, int], list[ResourceState]] = {}
        self.day_views = DayViewMemo()

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
        within: Interval | None = None,
    ) -> list[SlotView]:
        """``memo``: an offer may reuse the same day worked out a moment ago for the
        same calendars (:class:`DayViewMemo`); ``within``: only the slots starting in it."""
        calendars = self._calendars(work)
        keys = [
            (r.resource_id, day + timedelta(days=offset))
            for r in resources
            if any(r.satisfies(q) for q in definition.requirements)
            for offset in (-1, 0, 1)
        ]
        calendars.preload(keys)

        def compute() -> list[SlotView]:
            return day_slots(
                definition, day, resources, calendars, now, location.tz, starting_within=within
            )

        if not memo:
            return compute()
        state = calendar_states(calendars, keys)
        key = (definition, location.id, location.tz, day, within, tuple(resources), state)
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
    ) -> LazyCalendars:
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

    def _calendars(self, work: UnitOfWork | None) -> LazyCalendars:
        """Resource days as ``work`` sees them (with the group's changes), or as stored."""
        if work is not None:
            return LazyCalendars(lambda keys: days_in(work, keys))
        return LazyCalendars(self._stored_days)

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

    def _offered(
        self,
        definition: ServiceDefinition,
        location: Location,
        resources: Sequence[ResourceState],
        start: datetime,
    ) -> bool:
        """Whether the slot list offers ``start`` at all (on the service's grid)."""
        tz = location.tz
        return start in offered_starts(definition, local_date_of(start, tz), resources, tz)

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

        def near(day: date, around: Interval) -> list[SlotView]:
            return self._day_slots(
                definition, location, resources, day, now, work, memo=True, within=around
            )

        last = min(
            last_bookable_date(definition, now, tz), local_date_of(start, tz) + timedelta(days=7)
        )
        offered = nearest_alternatives(start, tz, slots, last, slots_near=near)
        return [Interval(s.start, s.end) for s in offered]

    def _find_hold(self, hold_id: UUID) -> Hold | None:
        found = self.get_many([hold_id]).get(hold_id)
        return found if isinstance(found, Hold) else None
