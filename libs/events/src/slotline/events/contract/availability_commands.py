"""``availability.commands.v1`` — what booking (or a staff tool) asks availability to do.

Published by the booking service; consumed by availability, which answers with
``HoldPlaced`` / ``HoldRejected`` / ``HoldConfirmed`` … on ``availability.events.v1``.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import AwareDatetime, Field

from slotline.events.contract.common import Id, TimeSlot
from slotline.events.envelope import Message
from slotline.events.topics import AVAILABILITY_COMMANDS


class AvailabilityCommand(Message):
    TOPIC: ClassVar[str] = AVAILABILITY_COMMANDS
    ABSTRACT: ClassVar[bool] = True


class PlaceHold(AvailabilityCommand):
    """Hold what ``service_id`` needs at ``slot`` for ``ttl_seconds`` (aggregate: the hold)."""

    hold_id: Id
    request_id: Id | None = None
    service_id: Id
    location_id: Id
    slot_start: AwareDatetime = Field(description="Start of the slot (service time).")
    preferred_resource_id: Id | None = None
    seats: int = Field(default=1, ge=1, le=100)
    ttl_seconds: int = Field(default=600, ge=30, le=24 * 3600)


class ConfirmHold(AvailabilityCommand):
    """Turn a hold into an allocation."""

    hold_id: Id


class ReleaseHold(AvailabilityCommand):
    """Give a held slot back (the booking did not go ahead)."""

    hold_id: Id
    reason: str = Field(default="released", max_length=200)


class CancelAllocation(AvailabilityCommand):
    """Free a confirmed allocation (the booking was cancelled)."""

    hold_id: Id
    reason: str = Field(default="cancelled", max_length=200)


class RescheduleHold(AvailabilityCommand):
    """Move an allocation to ``slot``: take the new slot, then free the old one."""

    hold_id: Id
    slot: TimeSlot
    preferred_resource_id: Id | None = None
