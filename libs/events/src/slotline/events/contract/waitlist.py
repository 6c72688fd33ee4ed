"""``booking.events.v1``, part two — the waitlist: customers waiting for a service on a
day, and the freed slots offered to them in turn.

Published by the booking service (aggregate and key: the waitlist line, one per tenant ×
service × location × local day, so one line's events stay in order); read by analysts
(time-to-fill after a cancellation) and anyone who shows a line. Ids only: the customer
is named by ``customer_id`` (see ``CustomerRegistered``), never by name or number. The
offer's message itself goes to the notifier as a ``NotificationRequested``.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar

from pydantic import AwareDatetime, Field

from slotline.events.contract.common import Id, TimeSlot
from slotline.events.envelope import Message
from slotline.events.topics import BOOKING_EVENTS


class WaitlistEvent(Message):
    TOPIC: ClassVar[str] = BOOKING_EVENTS
    KEY: ClassVar[str] = (
        "the waitlist line: a UUID (v5) of tenant, service, location and local day, so one "
        "line's events stay in order"
    )
    ABSTRACT: ClassVar[bool] = True

    entry_id: Id = Field(description="The customer's place in the line; stable.")
    service_id: Id = Field(description="The service waited for.")
    location_id: Id = Field(description="Where.")
    day: date = Field(description="The local day waited for, in the location's time zone.")


_OFFER = "The booking the offer made; it holds the slot until claimed or passed."
_FREED = (
    "When the waitlist first saw the slot free (the start of time-to-fill); the same on "
    "every offer of that freeing, also after an earlier offer of it passed."
)


class SlotFreedBy(StrEnum):
    """What made a slot free for the waitlist."""

    CANCELLED = "cancelled"  # a confirmed booking was cancelled (its allocation given back)
    RELEASED = "released"  # a hold was released before confirmation
    EXPIRED = "expired"  # a hold ran out unconfirmed
    MOVED = "moved"  # a booking was moved away to another slot
    OPENED = "opened"  # no booking gave it back: the live view showed it bookable


_FREED_BY = (
    "What freed the slot: cancelled, released, expired, moved (a booking gave it back) "
    "or opened (a schedule or resource change); absent on events published before it "
    "was told."
)
_FREED_BOOKING = (
    "The booking that gave the slot back (cancelled, released, expired, moved); absent "
    "when the slot opened, and on events published before it was told."
)


class WaitlistJoined(WaitlistEvent):
    """A customer joined the line for a service on a day."""

    customer_id: Id = Field(description="The customer record (see CustomerRegistered).")
    earliest: AwareDatetime = Field(description="No slot starting before this, UTC.")
    latest: AwareDatetime = Field(description="No slot starting after this, UTC.")
    preferred_staff_id: Id | None = Field(default=None, description="Only with this staff member.")
    position: int = Field(ge=1, description="Place in the line when joined (1 = first).")


class WaitlistOffered(WaitlistEvent):
    """A freed slot is held for the first matching customer until ``offer_expires_at``;
    they were sent a claim link."""

    booking_id: Id = Field(description=_OFFER)
    slot: TimeSlot = Field(description="The slot offered, UTC.")
    offer_expires_at: AwareDatetime = Field(description="Unclaimed by then, it passes on.")
    slot_freed_at: AwareDatetime = Field(description=_FREED)
    slot_freed_by: SlotFreedBy | None = Field(default=None, description=_FREED_BY)
    freed_booking_id: Id | None = Field(default=None, description=_FREED_BOOKING)


class WaitlistClaimed(WaitlistEvent):
    """The customer claimed the offer: its booking is being confirmed."""

    booking_id: Id = Field(description=_OFFER)
    slot: TimeSlot = Field(description="The slot claimed, UTC.")
    slot_freed_at: AwareDatetime = Field(description=_FREED)
    slot_freed_by: SlotFreedBy | None = Field(default=None, description=_FREED_BY)
    freed_booking_id: Id | None = Field(default=None, description=_FREED_BOOKING)


class PassReason(StrEnum):
    """Why an offer passed to the next customer."""

    EXPIRED = "expired"
    DECLINED = "declined"


class WaitlistPassed(WaitlistEvent):
    """An offer was not claimed in time (or was declined); the slot goes to the next."""

    booking_id: Id = Field(description=_OFFER)
    reason: PassReason = Field(description="expired or declined.")


class WaitlistLeft(WaitlistEvent):
    """The customer left the line (or it was closed for them: ``reason``)."""

    reason: str = Field(default="left", max_length=100, description="left, or why it closed.")
