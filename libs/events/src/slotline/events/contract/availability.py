"""``availability.events.v1``, part two — holds, allocations and the live free-slot view.

Published by the availability service; read by booking (the outcome of its hold
commands, correlated by ``hold_id`` and ``request_id``), front desks and booking pages
(``SlotsChanged``), notifier and analysts. Aggregate: the hold; for ``SlotsChanged``
the service × location × day view.

The catalogue events (same topic) are in ``availability_catalog``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from pydantic import Field

from slotline.events.contract.common import (
    HoldRejection,
    Id,
    SlotOffer,
    SlotStatus,
    TimeSlot,
    Value,
)
from slotline.events.envelope import Message
from slotline.events.topics import AVAILABILITY_EVENTS


class AvailabilityEvent(Message):
    TOPIC: ClassVar[str] = AVAILABILITY_EVENTS
    KEY: ClassVar[str] = "{hold_id}"
    ABSTRACT: ClassVar[bool] = True


_HOLD = "The hold (later allocation); chosen by whoever asked for it."
_REQUEST = "The booking request it serves, if any."


class HoldPlaced(AvailabilityEvent):
    """Every resource a slot needs is held until ``expires_at`` (aggregate: the hold)."""

    hold_id: Id = Field(description=_HOLD)
    request_id: Id | None = Field(default=None, description=_REQUEST)
    service_id: Id = Field(description="The service the slot is for.")
    location_id: Id = Field(description="Where.")
    slot: TimeSlot = Field(description="The service time, buffers excluded.")
    resource_ids: list[Id] = Field(min_length=1, description="Every resource held.")
    seats: int = Field(default=1, ge=1, description="Seats taken in a group session.")
    expires_at: datetime = Field(description="When the hold lapses unless confirmed.")


class HoldRejected(AvailabilityEvent):
    """A slot could not be held: why, and the nearest free alternatives."""

    hold_id: Id = Field(description=_HOLD)
    request_id: Id | None = Field(default=None, description=_REQUEST)
    service_id: Id = Field(description="The service asked for.")
    slot: TimeSlot = Field(description="The slot asked for.")
    reason: HoldRejection = Field(description="Why it could not be held.")
    detail: str = Field(default="", max_length=500, description="Human explanation.")
    alternatives: list[SlotOffer] = Field(
        default_factory=list, description="Nearest free slots, closest first."
    )


class HoldConfirmed(AvailabilityEvent):
    """The hold became an allocation: the resources are booked for the slot."""

    hold_id: Id = Field(description=_HOLD)
    request_id: Id | None = Field(default=None, description=_REQUEST)
    slot: TimeSlot = Field(description="The allocated service time.")
    resource_ids: list[Id] = Field(description="Every resource allocated.")


class HoldReleased(AvailabilityEvent):
    """A held (unconfirmed) slot was given back on request."""

    hold_id: Id = Field(description=_HOLD)
    request_id: Id | None = Field(default=None, description=_REQUEST)
    reason: str = Field(default="released", max_length=200, description="Why it was released.")


class HoldExpired(AvailabilityEvent):
    """A hold's time ran out before it was confirmed; its resources are free again."""

    hold_id: Id = Field(description=_HOLD)
    request_id: Id | None = Field(default=None, description=_REQUEST)


class AllocationCancelled(AvailabilityEvent):
    """A confirmed allocation was cancelled; its resources are free again."""

    hold_id: Id = Field(description=_HOLD)
    request_id: Id | None = Field(default=None, description=_REQUEST)
    reason: str = Field(default="cancelled", max_length=200, description="Why.")


class HoldRescheduled(AvailabilityEvent):
    """An allocation moved: the new slot was taken before the old one was freed."""

    hold_id: Id = Field(description="The allocation; its id stays across moves.")
    request_id: Id | None = Field(default=None, description=_REQUEST)
    previous_slot: TimeSlot = Field(description="The slot given up.")
    slot: TimeSlot = Field(description="The slot now allocated.")
    resource_ids: list[Id] = Field(description="Every resource now allocated.")


class HoldRescheduleRefused(AvailabilityEvent):
    """A move could not be made; the hold or allocation stays where it was."""

    hold_id: Id = Field(description=_HOLD)
    request_id: Id | None = Field(default=None, description=_REQUEST)
    slot: TimeSlot = Field(description="The slot asked for.")
    reason: HoldRejection = Field(description="Why it could not be moved there.")
    detail: str = Field(default="", max_length=500, description="Human explanation.")
    alternatives: list[SlotOffer] = Field(
        default_factory=list, description="Nearest free slots, closest first."
    )


class SlotState(Value):
    """One offered start time in the live view."""

    slot: TimeSlot = Field(description="The service time.")
    status: SlotStatus = Field(description="available, limited (few left) or booked.")
    free_resources: int = Field(ge=0, description="Qualifying resource sets still free.")
    seats_left: int | None = Field(
        default=None, ge=0, description="Free seats, for group sessions only."
    )


class SlotsChanged(AvailabilityEvent):
    """The free-slot view of one service at one location on one local day changed."""

    KEY: ClassVar[str] = "{service_id}:{location_id}:{day}"

    service_id: Id = Field(description="The service the view is for.")
    location_id: Id = Field(description="The location the view is for.")
    day: date = Field(description="The local date, in the location's time zone.")
    slots: list[SlotState] = Field(description="Every offered start that day, in order.")
