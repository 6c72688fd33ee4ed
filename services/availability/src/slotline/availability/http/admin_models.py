"""Request and response bodies of the catalog admin API.

The wire follows the public contract's conventions (weekday 0 = Monday, local
``HH:MM`` times with ``24:00`` for midnight, durations in minutes) so a manager's
request and the event it publishes read alike. Every rule is checked here, each
under its own name, so a 422 says which field broke which rule before the domain
is touched; the ``to_*`` / ``of`` converters are the only bridge to the domain.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Self
from uuid import UUID, uuid4

from pydantic import (
    Field,
)

from slotline.availability.domain.catalog import Location, Resource, Service
from slotline.availability.domain.values import (
    Requirement,
    ResourceKind,
    ServiceDefinition,
)
from slotline.availability.http.hours_models import (
    Body,
    Integer,
    Name,
    Schedule,
    Tag,
    TimeZone,
    View,
    whole_minutes,
)
from slotline.events.http_contract import JSON_INTEGER


class LocationIn(Body):
    name: Name
    time_zone: TimeZone


class LocationView(View):
    id: UUID
    name: str
    time_zone: str
    retired: bool

    @classmethod
    def of(cls, location: Location) -> Self:
        return cls(
            id=location.id,
            name=location.name,
            time_zone=location.timezone,
            retired=location.retired,
        )


# --- resources ------------------------------------------------------------------------------


class ResourceProfile(Body):
    """What a manager may rename or re-tag on a resource."""

    name: Name
    tags: list[Tag] = Field(default_factory=list, max_length=50)


class ResourceIn(ResourceProfile, Schedule):
    """A new resource with its schedule."""

    kind: ResourceKind


class ResourceView(View):
    id: UUID
    location_id: UUID
    kind: ResourceKind
    name: str
    tags: list[str]
    retired: bool

    @classmethod
    def of(cls, resource: Resource) -> Self:
        return cls(
            id=resource.id,
            location_id=resource.location_id,
            kind=resource.kind,
            name=resource.name,
            tags=sorted(resource.tags),
            retired=resource.retired,
        )


# --- services -------------------------------------------------------------------------------


class RequirementIn(Body):
    """``count`` distinct resources of ``kind`` carrying all ``tags``."""

    kind: ResourceKind
    tags: list[Tag] = Field(default_factory=list)
    count: Integer = Field(default=1, ge=1, le=20)

    def to_domain(self) -> Requirement:
        return Requirement(self.kind, frozenset(self.tags), self.count)

    @classmethod
    def of(cls, requirement: Requirement) -> Self:
        return cls(kind=requirement.kind, tags=sorted(requirement.tags), count=requirement.count)


class ServiceTerms(Body):
    """Everything booking one service takes (see ``ServiceDefinition``)."""

    name: Name
    duration_minutes: Integer = Field(ge=1, le=24 * 60)
    buffer_before_minutes: Integer = Field(default=0, ge=0, le=240)
    buffer_after_minutes: Integer = Field(default=0, ge=0, le=240)
    requirements: list[RequirementIn] = Field(min_length=1, max_length=10)
    capacity: Integer = Field(default=1, ge=1, le=1000)
    minimum_notice_minutes: Integer = Field(default=0, ge=0, le=365 * 24 * 60)
    booking_horizon_days: Integer = Field(default=90, ge=1, le=730)
    slot_interval_minutes: Integer = Field(default=15, ge=5, le=24 * 60)
    max_per_day_per_resource: Annotated[int, Field(ge=1), JSON_INTEGER] | None = None
    max_per_day_per_location: Annotated[int, Field(ge=1), JSON_INTEGER] | None = None
    price_tier: str = Field(default="standard", min_length=1, max_length=64)

    def to_domain(self, service_id: UUID) -> ServiceDefinition:
        return ServiceDefinition(
            service_id=service_id,
            duration=timedelta(minutes=self.duration_minutes),
            requirements=tuple(r.to_domain() for r in self.requirements),
            buffer_before=timedelta(minutes=self.buffer_before_minutes),
            buffer_after=timedelta(minutes=self.buffer_after_minutes),
            capacity=self.capacity,
            minimum_notice=timedelta(minutes=self.minimum_notice_minutes),
            booking_horizon=timedelta(days=self.booking_horizon_days),
            slot_interval=timedelta(minutes=self.slot_interval_minutes),
            max_per_day_per_resource=self.max_per_day_per_resource,
            max_per_day_per_location=self.max_per_day_per_location,
            price_tier=self.price_tier,
        )


class ServiceIn(ServiceTerms):
    """A new service; its id is generated unless the caller brings one (e.g. a migration)."""

    service_id: UUID = Field(default_factory=uuid4)


class ServiceView(View):
    id: UUID
    location_id: UUID
    name: str
    retired: bool
    duration_minutes: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    requirements: list[RequirementIn]
    capacity: int
    minimum_notice_minutes: int
    booking_horizon_days: int
    slot_interval_minutes: int
    max_per_day_per_resource: int | None
    max_per_day_per_location: int | None
    price_tier: str

    @classmethod
    def of(cls, service: Service) -> Self:
        terms = service.definition
        return cls(
            id=service.id,
            location_id=service.location_id,
            name=service.name,
            retired=service.retired,
            duration_minutes=whole_minutes(terms.duration),
            buffer_before_minutes=whole_minutes(terms.buffer_before),
            buffer_after_minutes=whole_minutes(terms.buffer_after),
            requirements=[RequirementIn.of(r) for r in terms.requirements],
            capacity=terms.capacity,
            minimum_notice_minutes=whole_minutes(terms.minimum_notice),
            booking_horizon_days=terms.booking_horizon.days,
            slot_interval_minutes=whole_minutes(terms.slot_interval),
            max_per_day_per_resource=terms.max_per_day_per_resource,
            max_per_day_per_location=terms.max_per_day_per_location,
            price_tier=terms.price_tier,
        )
