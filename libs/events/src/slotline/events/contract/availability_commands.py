"""``availability.commands.v1`` — what booking (or a staff tool) asks availability to do.

Published by the booking service; consumed by availability (idempotent inbox), which
answers with ``HoldPlaced`` / ``HoldRejected`` / ``HoldConfirmed`` … on
``availability.events.v1``. Aggregate (and Kafka key): the ``hold_id``, chosen by the
sender, so a command sent twice acts once and all commands of one hold stay in order.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import AwareDatetime, Field

from slotline.events.contract.common import Id, TimeSlot
from slotline.events.envelope import Message
from slotline.events.topics import AVAILABILITY_COMMANDS


class AvailabilityCommand(Message):
    TOPIC: ClassVar[str] = AVAILABILITY_COMMANDS
    KEY: ClassVar[str] = "{hold_id}"
    ABSTRACT: ClassVar[bool] = True


_HOLD = "The hold to act on; the sender picks it when placing the hold."
_OFFERED_ONLY = (
    "Only a start the slot list offers (a customer's request): one off the service's grid"
    " (10:07 on a 15-minute one) is rejected outside_hours with the nearest offered starts"
    " as alternatives. False (staff): any start the hours allow."
)


class PlaceHold(AvailabilityCommand):
    """Hold what ``service_id`` needs at ``slot_start`` for ``ttl_seconds``."""

    hold_id: Id = Field(description="Id for the new hold; placing it twice is a no-op.")
    request_id: Id | None = Field(default=None, description="The booking request it serves.")
    service_id: Id = Field(description="The service; its definition gives duration and needs.")
    location_id: Id = Field(description="Where.")
    slot_start: AwareDatetime = Field(description="Start of the slot (service time).")
    preferred_resource_id: Id | None = Field(
        default=None, description="A staff member or resource the customer asked for."
    )
    seats: int = Field(default=1, ge=1, le=100, description="Seats in a group session.")
    ttl_seconds: int = Field(
        default=600, ge=30, le=24 * 3600, description="How long the hold lasts unconfirmed."
    )
    offered_only: bool = Field(default=False, description=_OFFERED_ONLY)
    confirm: bool = Field(
        default=False,
        description=(
            "Confirm at once: the hold is an allocation in the same step (`HoldPlaced`, "
            "then `HoldConfirmed`; no `ConfirmHold` follows), for a booking with nothing "
            "due first. A `ReleaseHold` for it (its booking stopped waiting before the "
            "answer came) frees it as it would a hold."
        ),
    )


class ConfirmHold(AvailabilityCommand):
    """Turn a hold into an allocation."""

    hold_id: Id = Field(description=_HOLD)


class ReleaseHold(AvailabilityCommand):
    """Give a held slot back (the booking did not go ahead)."""

    hold_id: Id = Field(description=_HOLD)
    reason: str = Field(default="released", max_length=200, description="Why.")


class CancelAllocation(AvailabilityCommand):
    """Free a confirmed allocation (the booking was cancelled)."""

    hold_id: Id = Field(description=_HOLD)
    reason: str = Field(default="cancelled", max_length=200, description="Why.")


class RescheduleHold(AvailabilityCommand):
    """Move an allocation to ``slot``: take the new slot, then free the old one."""

    hold_id: Id = Field(description=_HOLD)
    slot: TimeSlot = Field(description="The new service time.")
    preferred_resource_id: Id | None = Field(
        default=None, description="A staff member or resource the customer asked for."
    )
    offered_only: bool = Field(default=False, description=_OFFERED_ONLY)
