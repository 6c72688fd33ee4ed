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
    ABSTRACT: ClassVar[bool] = True

    entry_id: Id = Field(description="The customer's place in the line; stable.")
    service_id: Id = Field(description="The service waited for.")
    location_id: Id = Field(description="Where.")
    day: date = Field(description="The local day waited for, in the location's time zone.")


_OFFER = "The booking the offer made; it holds the slot until claimed or passed."
_FREED = "When the waitlist first saw the slot free (the start of time-to-fill)."


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


class WaitlistClaimed(WaitlistEvent):
    """The customer claimed the offer: its booking is being confirmed."""

    booking_id: Id = Field(description=_OFFER)
    slot: TimeSlot = Field(description="The slot claimed, UTC.")
    slot_freed_at: AwareDatetime = Field(description=_FREED)


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
