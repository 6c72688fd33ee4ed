"""``availability.events.v1``, part one — the catalogue: locations, resources, services, hours.

Published by the availability service when a manager changes its set-up; read by
booking (service names, time zones, price tiers), payments (price tiers), call-intake
(locations) and analysts. The envelope's ``aggregate_id`` is the location, resource or
service id.

Holds and live slots are in ``availability``.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from slotline.events.contract.common import (
    DateOverride,
    Id,
    ResourceKind,
    Tag,
    TimeSlot,
    Value,
    WeeklyRange,
)
from slotline.events.envelope import Message
from slotline.events.topics import AVAILABILITY_EVENTS


class CatalogEvent(Message):
    TOPIC: ClassVar[str] = AVAILABILITY_EVENTS
    ABSTRACT: ClassVar[bool] = True


class LocationRegistered(CatalogEvent):
    """A place where services are given, with the time zone its hours are kept in."""

    KEY: ClassVar[str] = "{location_id}"

    location_id: Id = Field(description="The location's id.")
    name: str = Field(min_length=1, max_length=200, description="Shown to customers.")
    time_zone: str = Field(
        min_length=1, max_length=64, description="IANA zone, e.g. Europe/Athens."
    )
    address: str | None = Field(default=None, max_length=500, description="Postal address.")


class ResourceRegistered(CatalogEvent):
    """A staff member, room or piece of equipment joined the pool."""

    KEY: ClassVar[str] = "{resource_id}"

    resource_id: Id = Field(description="The resource's id.")
    location_id: Id = Field(description="Where the resource works.")
    kind: ResourceKind = Field(description="Staff, room or equipment.")
    name: str = Field(min_length=1, max_length=200, description="Shown to staff and customers.")
    tags: list[Tag] = Field(
        default_factory=list, description="Skills or types, e.g. 'massage', 'treatment'."
    )


class ResourceUpdated(CatalogEvent):
    """A resource's name, location or tags changed (its whole new description)."""

    KEY: ClassVar[str] = "{resource_id}"

    resource_id: Id = Field(description="The resource's id.")
    location_id: Id = Field(description="Where the resource works now.")
    kind: ResourceKind = Field(description="Staff, room or equipment.")
    name: str = Field(min_length=1, max_length=200, description="Shown to staff and customers.")
    tags: list[Tag] = Field(default_factory=list, description="Skills or types, all of them.")


class ResourceRetired(CatalogEvent):
    """A resource left the pool; it takes no new holds."""

    KEY: ClassVar[str] = "{resource_id}"

    resource_id: Id = Field(description="The retired resource.")


class ScheduleChanged(CatalogEvent):
    """A resource's weekly hours, date overrides or time off changed (the whole new set)."""

    KEY: ClassVar[str] = "{resource_id}"

    resource_id: Id = Field(description="Whose schedule changed.")
    weekly: list[WeeklyRange] = Field(
        default_factory=list, description="Weekly working hours, local time."
    )
    overrides: list[DateOverride] = Field(
        default_factory=list, description="Dates with other hours, or closed."
    )
    time_off: list[TimeSlot] = Field(default_factory=list, description="Absences, UTC.")


class Requirement(Value):
    """One kind of resource a service needs, e.g. one staff skilled in massage."""

    kind: ResourceKind = Field(description="Staff, room or equipment.")
    tags: list[Tag] = Field(
        default_factory=list, description="Tags a resource must all carry to qualify."
    )
    count: int = Field(default=1, ge=1, le=20, description="How many such resources.")


class ServiceDefined(CatalogEvent):
    """A bookable service was defined or changed (the latest definition wins)."""

    KEY: ClassVar[str] = "{service_id}"

    service_id: Id = Field(description="The service's id.")
    location_id: Id = Field(description="Where it is offered.")
    name: str = Field(min_length=1, max_length=200, description="e.g. '60-min massage'.")
    duration_minutes: int = Field(ge=1, le=24 * 60, description="Time with the customer.")
    buffer_before_minutes: int = Field(
        default=0, ge=0, le=240, description="Preparation the resources also need."
    )
    buffer_after_minutes: int = Field(
        default=0, ge=0, le=240, description="Clean-up the resources also need."
    )
    requirements: list[Requirement] = Field(
        min_length=1, description="Every resource a slot needs, held together."
    )
    capacity: int = Field(default=1, ge=1, le=1000, description="Seats; > 1 = group session.")
    minimum_notice_minutes: int = Field(
        default=0, ge=0, description="How far ahead of its start a slot can be booked."
    )
    booking_horizon_days: int = Field(
        default=90, ge=1, le=730, description="How far into the future slots are offered."
    )
    slot_interval_minutes: int = Field(
        default=15, ge=5, le=24 * 60, description="Spacing of offered start times."
    )
    max_per_day_per_resource: int | None = Field(
        default=None, ge=1, description="Daily booking limit per resource; none = no limit."
    )
    max_per_day_per_location: int | None = Field(
        default=None, ge=1, description="Daily booking limit per location; none = no limit."
    )
    price_tier: str = Field(
        default="standard",
        min_length=1,
        max_length=64,
        description="Name of the payment policy tier (payments prices it).",
    )
