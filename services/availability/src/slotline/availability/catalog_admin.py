"""Catalog use cases: a manager sets up locations, resources, schedules and services.

Every change is checked against the caller's tenant: another tenant's item is
reported as unknown, never revealed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar, TypeVar
from uuid import UUID

from slotline.availability.domain.calendar_sync import Pulled, blocks_after, synced
from slotline.availability.domain.catalog import Location, Resource, Service
from slotline.availability.domain.roster import Roster
from slotline.availability.domain.values import (
    ResourceKind,
    ResourceSchedule,
    ServiceDefinition,
)
from slotline.events.store import ServiceApplication
from slotline.events.unit_of_work import UnitOfWork

Item = TypeVar("Item", Location, Resource, Service, Roster)
T = TypeVar("T")


class UnknownItem(LookupError):
    """No such location, resource, service or hold for this tenant."""


class ServiceAlreadyDefined(Exception):
    """A service with the id the caller chose exists already (an honest 409)."""


ScheduleEdit = Callable[[Resource], ResourceSchedule]
"""A new schedule made from the resource's current one."""


class CatalogApplication(ServiceApplication):
    """The catalog half of the availability store."""

    max_attempts: ClassVar[int] = 16  # many holds may want the same popular day at once

    # --- locations ---------------------------------------------------------------

    def register_location(self, tenant_id: str, name: str, timezone: str) -> UUID:
        def act(work: UnitOfWork) -> UUID:
            location = Location.register(tenant_id, name, timezone)
            work.add(location, Roster(location.id))
            return location.id

        return self._command(act)

    def update_location(self, tenant_id: str, location_id: UUID, name: str, timezone: str) -> None:
        self._command(lambda _: self.location(tenant_id, location_id).update(name, timezone))

    def location(self, tenant_id: str, location_id: UUID) -> Location:
        return self._owned(Location, location_id, tenant_id)

    def roster(self, tenant_id: str, location_id: UUID) -> Roster:
        self.location(tenant_id, location_id)
        return self._get(Roster, Roster.create_id(location_id))

    # --- resources ---------------------------------------------------------------

    def register_resource(
        self,
        tenant_id: str,
        location_id: UUID,
        kind: ResourceKind,
        name: str,
        tags: Sequence[str],
        schedule: ResourceSchedule,
    ) -> UUID:
        def act(work: UnitOfWork) -> UUID:
            roster = self.roster(tenant_id, location_id)
            resource = Resource.register(tenant_id, location_id, kind, name, tags, schedule)
            roster.enlist(resource.id)
            work.add(resource)
            return resource.id

        return self._command(act)

    def update_resource(
        self, tenant_id: str, resource_id: UUID, name: str, tags: Sequence[str]
    ) -> None:
        def act(_: UnitOfWork) -> None:
            resource = self.resource(tenant_id, resource_id)
            resource.update(name, resource.location_id, tags)
            self._note_change(resource)

        self._command(act)

    def change_schedule(
        self, tenant_id: str, resource_id: UUID, schedule: ResourceSchedule
    ) -> None:
        """Replace a resource's whole schedule (existing holds are kept); the blocks of
        its linked calendar stay, as only a calendar sync changes them."""

        def act(_: UnitOfWork) -> None:
            resource = self.resource(tenant_id, resource_id)
            kept = (*schedule.time_off, *synced(resource.time_off))
            resource.change_schedule(ResourceSchedule(schedule.weekly, schedule.overrides, kept))
            self._note_change(resource)

        self._command(act)

    def edit_schedule(self, tenant_id: str, resource_id: UUID, edit: ScheduleEdit) -> None:
        """Change part of a schedule (one override, one absence) without losing a change
        saved meanwhile: a conflict re-reads the schedule and edits it again."""

        def act(_: UnitOfWork) -> None:
            resource = self.resource(tenant_id, resource_id)
            resource.change_schedule(edit(resource))
            self._note_change(resource)

        self._command(act)

    def calendar_pulled(
        self,
        tenant_id: str,
        resource_id: UUID,
        pulled: Pulled,
        still_linked: Callable[[UnitOfWork], bool] = lambda _: True,
    ) -> bool:
        """Busy times read from the resource's linked calendar become its blocks (and a
        deleted event's blocks go). Records nothing when the blocks are already so, so a
        pull repeated after a crash changes nothing; True when the schedule changed.
        ``still_linked`` is asked in the same unit of work: a pull finishing after its link
        was removed adds nothing (the unlink removed the blocks)."""

        def act(work: UnitOfWork) -> bool:
            if not still_linked(work):
                return False
            resource = self.resource(tenant_id, resource_id)
            blocks = blocks_after(resource.time_off, pulled)
            if set(blocks) == set(resource.time_off):
                return False
            schedule = resource.schedule
            resource.change_schedule(ResourceSchedule(schedule.weekly, schedule.overrides, blocks))
            self._note_change(resource)
            return True

        return self._command(act)

    def calendar_unlinked(self, tenant_id: str, resource_id: UUID) -> None:
        """The resource's calendar was unlinked: its blocks go."""
        self.calendar_pulled(tenant_id, resource_id, Pulled(full=True))

    def retire_resource(self, tenant_id: str, resource_id: UUID) -> None:
        def act(_: UnitOfWork) -> None:
            resource = self.resource(tenant_id, resource_id)
            resource.retire()
            self._note_change(resource)

        self._command(act)

    def resource(self, tenant_id: str, resource_id: UUID) -> Resource:
        return self._owned(Resource, resource_id, tenant_id)

    def resources_at(self, tenant_id: str, location_id: UUID) -> list[Resource]:
        roster = self.roster(tenant_id, location_id)
        found = self.get_many(roster.resource_ids)
        return [found[rid] for rid in roster.resource_ids if isinstance(found.get(rid), Resource)]

    # --- services ----------------------------------------------------------------

    def define_service(
        self, tenant_id: str, location_id: UUID, name: str, definition: ServiceDefinition
    ) -> UUID:
        def act(work: UnitOfWork) -> UUID:
            roster = self.roster(tenant_id, location_id)
            if work.get(Service, Service.create_id(definition.service_id)) is not None:
                raise ServiceAlreadyDefined(f"service {definition.service_id} already exists")
            service = Service.register(tenant_id, location_id, name, definition)
            roster.offer(service.id)
            work.add(service)
            return service.id

        return self._command(act)

    def update_service(
        self, tenant_id: str, service_id: UUID, name: str, definition: ServiceDefinition
    ) -> None:
        self._command(lambda _: self.service(tenant_id, service_id).update(name, definition))

    def retire_service(self, tenant_id: str, service_id: UUID) -> None:
        self._command(lambda _: self.service(tenant_id, service_id).retire())

    def service(self, tenant_id: str, service_id: UUID) -> Service:
        return self._owned(Service, Service.create_id(service_id), tenant_id)

    def services_at(self, tenant_id: str, location_id: UUID) -> list[Service]:
        roster = self.roster(tenant_id, location_id)
        return [self._get(Service, sid) for sid in roster.service_ids]

    # --- helpers -----------------------------------------------------------------

    def _command(self, act: Callable[[UnitOfWork], T]) -> T:
        """A catalogue change in one unit of work: a lost race re-reads and redoes it
        (``max_attempts``), then ``ContentionTooHigh``."""
        return self.command(act, attempts=self.max_attempts)

    def _note_change(self, resource: Resource) -> None:
        """The roster notes a changed resource (saved with it, in the same work)."""
        self._get(Roster, Roster.create_id(resource.location_id)).note_change(resource.id)

    def _get(self, kind: type[Item], item_id: UUID) -> Item:
        item = self.get_many([item_id]).get(item_id)  # through the open unit of work, if any
        if not isinstance(item, kind):
            raise UnknownItem(f"no {kind.__name__.lower()} {item_id}")
        return item

    def _owned(self, kind: type[Item], item_id: UUID, tenant_id: str) -> Item:
        item = self._get(kind, item_id)
        if getattr(item, "tenant_id", None) != tenant_id:
            raise UnknownItem(f"no {kind.__name__.lower()} {item_id}")
        return item
