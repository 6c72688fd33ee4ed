"""Catalog use cases: a manager sets up locations, resources, schedules and services.

Every change is checked against the caller's tenant: another tenant's item is
reported as unknown, never revealed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar, TypeVar
from uuid import UUID

from eventsourcing.persistence import IntegrityError
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

from slotline.availability.domain.catalog import Location, Resource, Service
from slotline.availability.domain.roster import Roster
from slotline.availability.domain.values import (
    DateOverride,
    ResourceKind,
    ServiceDefinition,
    TimeOff,
    WeeklyHours,
)
from slotline.events.store import ServiceApplication
from slotline.events.unit_of_work import ContentionTooHigh

Item = TypeVar("Item", Location, Resource, Service, Roster)
T = TypeVar("T")


class UnknownItem(LookupError):
    """No such location, resource, service or hold for this tenant."""


ScheduleEdit = Callable[[Resource], tuple[WeeklyHours, Sequence[DateOverride], Sequence[TimeOff]]]
"""A new schedule made from the resource's current one."""


class CatalogApplication(ServiceApplication):
    """The catalog half of the availability store."""

    max_attempts: ClassVar[int] = 16  # many holds may want the same popular day at once

    # --- locations ---------------------------------------------------------------

    def register_location(self, tenant_id: str, name: str, timezone: str) -> UUID:
        location = Location.register(tenant_id, name, timezone)
        self.save(location, Roster(location.id))
        return location.id

    def update_location(self, tenant_id: str, location_id: UUID, name: str, timezone: str) -> None:
        location = self.location(tenant_id, location_id)
        location.update(name, timezone)
        self.save(location)

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
        weekly: WeeklyHours,
        overrides: Sequence[DateOverride] = (),
        time_off: Sequence[TimeOff] = (),
    ) -> UUID:
        roster = self.roster(tenant_id, location_id)
        resource = Resource.register(
            tenant_id, location_id, kind, name, tags, weekly, overrides, time_off
        )
        roster.enlist(resource.id)
        self.save(resource, roster)
        return resource.id

    def update_resource(
        self, tenant_id: str, resource_id: UUID, name: str, tags: Sequence[str]
    ) -> None:
        resource = self.resource(tenant_id, resource_id)
        resource.update(name, resource.location_id, tags)
        self._save_resource(resource)

    def change_schedule(
        self,
        tenant_id: str,
        resource_id: UUID,
        weekly: WeeklyHours,
        overrides: Sequence[DateOverride] = (),
        time_off: Sequence[TimeOff] = (),
    ) -> None:
        """Replace a resource's whole schedule (existing holds are kept)."""
        resource = self.resource(tenant_id, resource_id)
        resource.change_schedule(weekly, overrides, time_off)
        self._save_resource(resource)

    def edit_schedule(self, tenant_id: str, resource_id: UUID, edit: ScheduleEdit) -> None:
        """Change part of a schedule (one override, one absence) without losing a change
        saved meanwhile: a conflict re-reads the schedule and edits it again."""

        def attempt() -> None:
            resource = self.resource(tenant_id, resource_id)
            resource.change_schedule(*edit(resource))
            self._save_resource(resource)

        self._optimistically(attempt)

    def retire_resource(self, tenant_id: str, resource_id: UUID) -> None:
        resource = self.resource(tenant_id, resource_id)
        resource.retire()
        self._save_resource(resource)

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
        roster = self.roster(tenant_id, location_id)
        service = Service.register(tenant_id, location_id, name, definition)
        roster.offer(service.id)
        self.save(service, roster)
        return service.id

    def update_service(
        self, tenant_id: str, service_id: UUID, name: str, definition: ServiceDefinition
    ) -> None:
        service = self.service(tenant_id, service_id)
        service.update(name, definition)
        self.save(service)

    def retire_service(self, tenant_id: str, service_id: UUID) -> None:
        service = self.service(tenant_id, service_id)
        service.retire()
        self.save(service)

    def service(self, tenant_id: str, service_id: UUID) -> Service:
        return self._owned(Service, Service.create_id(service_id), tenant_id)

    def services_at(self, tenant_id: str, location_id: UUID) -> list[Service]:
        roster = self.roster(tenant_id, location_id)
        return [self._get(Service, sid) for sid in roster.service_ids]

    # --- helpers -----------------------------------------------------------------

    def _save_resource(self, resource: Resource) -> None:
        """Save a changed resource with its roster's note of the change (one transaction)."""
        roster = self._get(Roster, Roster.create_id(resource.location_id))
        roster.note_change(resource.id)
        self.save(resource, roster)

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
