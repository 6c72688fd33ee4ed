"""``booking.requests.v1`` — booking requests from every channel adapter.

Published by channel adapters (web widget, WhatsApp bot, phone, kiosk, partner apps)
and by call-intake; consumed by the booking service, which answers on
``booking.events.v1`` correlated by ``request_id``. The envelope's ``aggregate_id`` is
the ``request_id``: a request sent twice yields one booking.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import AwareDatetime, Field

from slotline.events.contract.common import Channel, Consents, Contact, Id
from slotline.events.envelope import Message
from slotline.events.topics import BOOKING_REQUESTS


class BookingRequest(Message):
    TOPIC: ClassVar[str] = BOOKING_REQUESTS
    ABSTRACT: ClassVar[bool] = True


class BookingRequested(BookingRequest):
    """A customer asks for a slot. The few fields a mobile form needs, plus options."""

    request_id: Id = Field(description="Unique per request; repeats return the first outcome.")
    channel: Channel
    contact: Contact
    service_id: Id
    location_id: Id
    slot_start: AwareDatetime
    preferred_staff_id: Id | None = None
    notes: str | None = Field(default=None, max_length=2000)
    consents: Consents = Field(default_factory=Consents)
    source_call_id: Id | None = Field(default=None, description="A missed call it answers.")


class BookingCancellationRequested(BookingRequest):
    """A channel asks to cancel a booking on the customer's behalf."""

    request_id: Id
    booking_id: Id
    channel: Channel
    reason: str | None = Field(default=None, max_length=500)


class BookingRescheduleRequested(BookingRequest):
    """A channel asks to move a booking to another start."""

    request_id: Id
    booking_id: Id
    channel: Channel
    slot_start: AwareDatetime
