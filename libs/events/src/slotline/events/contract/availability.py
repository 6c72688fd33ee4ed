"""``availability.events.v1`` — facts about resources, services, holds and free slots.

Published by the availability service; read by booking (holds), the front desk and
booking pages (slot changes), and analysts.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from pydantic import Field

from slotline.events.contract.common import (
    DateOverride,
    HoldRejection,
    Id,
    ResourceKind,
    SlotOffer,
    SlotStatus,
    Tag,
    TimeSlot,
    Value,
    WeeklyRange,
)
from slotline.events.envelope import Message
from slotline.events.topics import AVAILABILITY_EVENTS


class AvailabilityEvent(Message):
    TOPIC: ClassVar[str] = AVAILABILITY_EVENTS
    ABSTRACT: ClassVar[bool] = True


class LocationRegistered(AvailabilityEvent):
    """A place where services are given, with the time zone its hours are kept in."""

    location_id: Id
    name: str = Field(min_length=1, max_length=200)
    time_zone: str = Field(
        min_length=1, max_length=64, description="IANA zone, e.g. Europe/Athens."
    )
    address: str | None = Field(default=None, max_length=500)


class ResourceRegistered(AvailabilityEvent):
    """A staff member, room or piece of equipment joined the pool."""

    resource_id: Id
    location_id: Id
    kind: ResourceKind
    name: str = Field(min_length=1, max_length=200)
    tags: list[Tag] = Field(default_factory=list, description="Skills or types.")


class ResourceRetired(AvailabilityEvent):
    """A resource left the pool; it takes no new holds."""

    resource_id: Id


class ScheduleChanged(AvailabilityEvent):
    """A resource's weekly hours, date overrides or time off changed."""

    resource_id: Id
    weekly: list[WeeklyRange] = Field(default_factory=list)
    overrides: list[DateOverride] = Field(default_factory=list)
    time_off: list[TimeSlot] = Field(default_factory=list)


class Requirement(Value):
    kind: ResourceKind
    tags: list[Tag] = Field(default_factory=list)
    count: int = Field(default=1, ge=1, le=20)


class ServiceDefined(AvailabilityEvent):
    """A bookable service was defined or changed (the latest definition wins)."""

    service_id: Id
    location_id: Id
    name: str = Field(min_length=1, max_length=200)
    duration_minutes: int = Field(ge=1, le=24 * 60)
    buffer_before_minutes: int = Field(default=0, ge=0, le=240)
    buffer_after_minutes: int = Field(default=0, ge=0, le=240)
    requirements: list[Requirement] = Field(min_length=1)
    capacity: int = Field(default=1, ge=1, le=1000, description="Seats; > 1 = group session.")
    minimum_notice_minutes: int = Field(default=0, ge=0)
    booking_horizon_days: int = Field(default=90, ge=1, le=730)
    slot_interval_minutes: int = Field(default=15, ge=5, le=24 * 60)
    max_per_day_per_resource: int | None = Field(default=None, ge=1)
    max_per_day_per_location: int | None = Field(default=None, ge=1)
    price_tier: str = Field(default="standard", min_length=1, max_length=64)


class HoldPlaced(AvailabilityEvent):
    """Every resource a slot needs is held until ``expires_at`` (aggregate: the hold)."""

    hold_id: Id
    request_id: Id | None = Field(default=None, description="The booking request it serves.")
    service_id: Id
    location_id: Id
    slot: TimeSlot
    resource_ids: list[Id] = Field(min_length=1)
    seats: int = Field(default=1, ge=1)
    expires_at: datetime


class HoldRejected(AvailabilityEvent):
    """A slot could not be held: why, and the nearest free alternatives."""

    hold_id: Id
    request_id: Id | None = None
    service_id: Id
    slot: TimeSlot
    reason: HoldRejection
    detail: str = Field(default="", max_length=500)
    alternatives: list[SlotOffer] = Field(default_factory=list)


class HoldConfirmed(AvailabilityEvent):
    """The hold became an allocation: the resources are booked for the slot."""

    hold_id: Id
    request_id: Id | None = None
    slot: TimeSlot
    resource_ids: list[Id]


class HoldReleased(AvailabilityEvent):
    """A held (unconfirmed) slot was given back on request."""

    hold_id: Id
    request_id: Id | None = None
    reason: str = Field(default="released", max_length=200)


class HoldExpired(AvailabilityEvent):
    """A hold's time ran out before it was confirmed; its resources are free again."""

    hold_id: Id
    request_id: Id | None = None


class AllocationCancelled(AvailabilityEvent):
    """A confirmed allocation was cancelled; its resources are free again."""

    hold_id: Id
    request_id: Id | None = None
    reason: str = Field(default="cancelled", max_length=200)


class HoldRescheduled(AvailabilityEvent):
    """An allocation moved: the new slot was taken before the old one was freed."""

    hold_id: Id
    request_id: Id | None = None
    previous_slot: TimeSlot
    slot: TimeSlot
    resource_ids: list[Id]


class SlotState(Value):
    slot: TimeSlot
    status: SlotStatus
    free_resources: int = Field(ge=0)
    seats_left: int | None = Field(default=None, ge=0)


class SlotsChanged(AvailabilityEvent):
    """The free-slot view of one service at one location on one local day changed."""

    service_id: Id
    location_id: Id
    day: date
    slots: list[SlotState]
