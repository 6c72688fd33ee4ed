"""``booking.events.v1`` — the life of a booking, from request to visit.

Published by the booking service; read by channel adapters (the outcome of their
request), payments (deposits, refunds, fees), notifier (confirmations, reminders),
call-intake (closing callback tasks) and analysts. Aggregate: the booking.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import AwareDatetime, Field

from slotline.events.contract.common import (
    Channel,
    Consents,
    Contact,
    Id,
    Money,
    SlotOffer,
    TimeSlot,
)
from slotline.events.envelope import Message
from slotline.events.topics import BOOKING_EVENTS


class BookingEvent(Message):
    TOPIC: ClassVar[str] = BOOKING_EVENTS
    ABSTRACT: ClassVar[bool] = True

    booking_id: Id
    request_id: Id | None = None


class Actor(StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"
    SYSTEM = "system"


class BookingHeld(BookingEvent):
    """The slot is held for the request; payment or confirmation follows."""

    reference: str = Field(pattern=r"^SLT-[0-9A-Z]{4,8}$")
    channel: Channel
    customer_id: Id
    contact: Contact
    consents: Consents
    service_id: Id
    location_id: Id
    time_zone: str
    slot: TimeSlot
    resource_ids: list[Id]
    hold_expires_at: AwareDatetime


class DepositRequested(BookingEvent):
    """The service's policy asks for money before the booking is confirmed."""

    amount: Money
    kind: str = Field(pattern=r"^(deposit|prepayment)$")
    price_tier: str
    payment_token: str | None = Field(default=None, description="Gateway token, never a card.")


class BookingConfirmed(BookingEvent):
    """The booking stands: slot allocated and, if required, paid."""

    reference: str
    customer_id: Id
    contact: Contact
    consents: Consents
    service_id: Id
    service_name: str
    location_id: Id
    time_zone: str
    slot: TimeSlot
    resource_ids: list[Id]
    price: Money | None = None
    paid: Money | None = None
    free_cancellation_until: AwareDatetime | None = None
    manage_url: str | None = None


class BookingRejected(BookingEvent):
    """The request failed: slot taken, payment failed, or invalid; with alternatives."""

    reason: str = Field(max_length=100)
    detail: str = Field(default="", max_length=500)
    alternatives: list[SlotOffer] = Field(default_factory=list)


class BookingExpired(BookingEvent):
    """The hold ran out before payment or confirmation."""


class BookingCancelled(BookingEvent):
    """The booking was cancelled; the fee and refund decisions are for payments."""

    by: Actor
    within_free_window: bool
    fee: Money | None = None
    refund: Money | None = None
    reason: str | None = Field(default=None, max_length=500)


class BookingRescheduled(BookingEvent):
    """The booking moved; its id and reference stay."""

    by: Actor
    previous_slot: TimeSlot
    slot: TimeSlot
    resource_ids: list[Id]
    change_number: int = Field(ge=1)
    change_fee: Money | None = None


class BookingCompleted(BookingEvent):
    """The customer came and the service was given."""


class BookingNoShow(BookingEvent):
    """The customer did not come; the policy's no-show fee applies."""

    fee: Money | None = None


class CustomerRegistered(Message):
    """A customer record was created, keyed by normalised phone / e-mail per tenant."""

    TOPIC: ClassVar[str] = BOOKING_EVENTS

    customer_id: Id
    contact: Contact
