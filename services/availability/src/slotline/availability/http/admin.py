"""Catalog admin API: managers set up locations, resources, schedules and services;
staff read them.

Routes are sync ``def`` because the event store is blocking (FastAPI runs them in its
threadpool). Each one parses, calls one catalog use case with the caller's tenant and
maps the outcome; domain errors become statuses through the service's
``error_statuses`` (unknown or another tenant's item 404, retired item 409).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated
from uuid import UUID

from eventsourcing.persistence import IntegrityError
from fastapi import APIRouter, Depends, HTTPException, Path, Query, status

from slotline.availability.catalog_admin import UnknownItem
from slotline.availability.domain.values import (
    DateOverride,
    ResourceKind,
    ResourceSchedule,
    TimeOff,
)
from slotline.availability.http.admin_models import (
    LocationIn,
    LocationView,
    ResourceIn,
    ResourceProfile,
    ResourceView,
    ServiceIn,
    ServiceTerms,
    ServiceView,
)
from slotline.availability.http.deps import Availability, Manager, Staff
from slotline.availability.http.hours_models import Created, Override, Schedule, TimeOffSpan
from slotline.events.audit import audited_route
from slotline.events.clock import Day

router = APIRouter(
    prefix="/v1",
    tags=["catalog"],
    dependencies=[
        Depends(
            audited_route(
                "catalogue", service_id="service", resource_id="resource", location_id="location"
            )
        )
    ],
)

NO_CONTENT = status.HTTP_204_NO_CONTENT
OverrideDate = Annotated[Day, Path(alias="date", description="The local date overridden.")]


# --- locations ------------------------------------------------------------------------------


@router.post("/locations", status_code=status.HTTP_201_CREATED)
def register_location(body: LocationIn, manager: Manager, app: Availability) -> Created:
    return Created(id=app.register_location(manager.tenant_id, body.name, body.time_zone))


@router.put("/locations/{location_id}", status_code=NO_CONTENT)
def update_location(
    location_id: UUID, body: LocationIn, manager: Manager, app: Availability
) -> None:
    app.update_location(manager.tenant_id, location_id, body.name, body.time_zone)


@router.get("/locations/{location_id}")
def get_location(location_id: UUID, staff: Staff, app: Availability) -> LocationView:
    return LocationView.of(app.location(staff.tenant_id, location_id))


# --- resources ------------------------------------------------------------------------------


@router.post("/locations/{location_id}/resources", status_code=status.HTTP_201_CREATED)
def register_resource(
    location_id: UUID, body: ResourceIn, manager: Manager, app: Availability
) -> Created:
    resource_id = app.register_resource(
        manager.tenant_id,
        location_id,
        body.kind,
        body.name,
        body.tags,
        body.to_domain(),
    )
    return Created(id=resource_id)


@router.get("/locations/{location_id}/resources")
def list_resources(
    location_id: UUID,
    staff: Staff,
    app: Availability,
    kind: ResourceKind | None = None,
    tag: Annotated[list[str] | None, Query(description="Carries all of these tags.")] = None,
    include_retired: bool = False,
) -> list[ResourceView]:
    wanted = set(tag or ())
    return [
        ResourceView.of(resource)
        for resource in app.resources_at(staff.tenant_id, location_id)
        if (kind is None or resource.kind == kind)
        and wanted <= resource.tags
        and (include_retired or not resource.retired)
    ]


@router.get("/resources/{resource_id}")
def get_resource(resource_id: UUID, staff: Staff, app: Availability) -> ResourceView:
    return ResourceView.of(app.resource(staff.tenant_id, resource_id))


@router.put("/resources/{resource_id}", status_code=NO_CONTENT)
def update_resource(
    resource_id: UUID, body: ResourceProfile, manager: Manager, app: Availability
) -> None:
    app.update_resource(manager.tenant_id, resource_id, body.name, body.tags)


@router.delete("/resources/{resource_id}", status_code=NO_CONTENT)
def retire_resource(resource_id: UUID, manager: Manager, app: Availability) -> None:
    """Retiring twice is a no-op, so a retried request is harmless."""
    app.retire_resource(manager.tenant_id, resource_id)


# --- schedules ------------------------------------------------------------------------------


@router.get("/resources/{resource_id}/schedule")
def get_schedule(resource_id: UUID, staff: Staff, app: Availability) -> Schedule:
    return Schedule.of(app.resource(staff.tenant_id, resource_id))


@router.put("/resources/{resource_id}/schedule", status_code=NO_CONTENT)
def replace_schedule(
    resource_id: UUID, body: Schedule, manager: Manager, app: Availability
) -> None:
    app.change_schedule(manager.tenant_id, resource_id, body.to_domain())


@router.post("/resources/{resource_id}/overrides", status_code=NO_CONTENT)
def set_override(resource_id: UUID, body: Override, manager: Manager, app: Availability) -> None:
    """Add the date's override, replacing one already there for that date."""
    replacement = body.to_domain()

    def edit(overrides: Sequence[DateOverride]) -> list[DateOverride]:
        return [*(o for o in overrides if o.date != replacement.date), replacement]

    _edit_schedule(app, manager.tenant_id, resource_id, overrides=edit)


@router.delete("/resources/{resource_id}/overrides/{date}", status_code=NO_CONTENT)
def remove_override(
    resource_id: UUID, day: OverrideDate, manager: Manager, app: Availability
) -> None:
    def edit(overrides: Sequence[DateOverride]) -> list[DateOverride]:
        if all(o.date != day for o in overrides):
            raise UnknownItem(f"no override on {day} for resource {resource_id}")
        return [o for o in overrides if o.date != day]

    _edit_schedule(app, manager.tenant_id, resource_id, overrides=edit)


@router.post("/resources/{resource_id}/time-off", status_code=NO_CONTENT)
def add_time_off(resource_id: UUID, body: TimeOffSpan, manager: Manager, app: Availability) -> None:
    _edit_schedule(
        app, manager.tenant_id, resource_id, time_off=lambda spans: [*spans, body.to_domain()]
    )


def _edit_schedule(
    app: Availability,
    tenant_id: str,
    resource_id: UUID,
    *,
    overrides: Callable[[Sequence[DateOverride]], list[DateOverride]] = list,
    time_off: Callable[[Sequence[TimeOff]], list[TimeOff]] = list,
) -> None:
    """Change one part of the schedule; a change saved meanwhile is kept, not lost."""
    app.edit_schedule(
        tenant_id,
        resource_id,
        lambda resource: ResourceSchedule(
            resource.weekly,
            tuple(overrides(resource.overrides)),
            tuple(time_off(resource.time_off)),
        ),
    )


# --- services -------------------------------------------------------------------------------


@router.post("/locations/{location_id}/services", status_code=status.HTTP_201_CREATED)
def define_service(
    location_id: UUID, body: ServiceIn, manager: Manager, app: Availability
) -> Created:
    definition = body.to_domain(body.service_id)
    try:
        service_id = app.define_service(manager.tenant_id, location_id, body.name, definition)
    except IntegrityError:  # the caller brought the id of a service that already exists
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"service {body.service_id} already exists"
        ) from None
    return Created(id=service_id)


@router.get("/locations/{location_id}/services")
def list_services(
    location_id: UUID, staff: Staff, app: Availability, include_retired: bool = False
) -> list[ServiceView]:
    return [
        ServiceView.of(service)
        for service in app.services_at(staff.tenant_id, location_id)
        if include_retired or not service.retired
    ]


@router.get("/services/{service_id}")
def get_service(service_id: UUID, staff: Staff, app: Availability) -> ServiceView:
    return ServiceView.of(app.service(staff.tenant_id, service_id))


@router.put("/services/{service_id}", status_code=NO_CONTENT)
def update_service(
    service_id: UUID, body: ServiceTerms, manager: Manager, app: Availability
) -> None:
    app.update_service(manager.tenant_id, service_id, body.name, body.to_domain(service_id))


@router.delete("/services/{service_id}", status_code=NO_CONTENT)
def retire_service(service_id: UUID, manager: Manager, app: Availability) -> None:
    app.retire_service(manager.tenant_id, service_id)
