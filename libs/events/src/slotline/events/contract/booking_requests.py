"""``booking.requests.v1`` — booking requests from every channel adapter.

Published by channel adapters (web widget, WhatsApp bot, phone, kiosk, partner apps)
and by call-intake (WhatsApp intents); consumed by the booking service, which answers on
``booking.events.v1`` correlated by ``request_id``. The booking service's own HTTP
intake (``POST /v1/public/{tenant}/bookings``, staff ``POST /v1/bookings``) does not
pass through this topic: it writes the request to the booking store in the same unit
of work as its answer, and the outcome appears on ``booking.events.v1`` the same way.
The envelope's ``aggregate_id`` (the Kafka key) is the ``request_id`` for a new booking
and the ``booking_id`` for a change, so a request sent twice yields one outcome.

A change (cancel, move) must prove it may act on its booking: ``authorization`` carries
the customer's manage-link token for that booking, or an access token with the
``channel`` role of the booking's tenant. The topic's ACLs say who may write; the proof
says whom a request may touch. A request without a valid proof is answered
``BookingRequestRefused`` with reason ``not_authorized``.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import AwareDatetime, Field

from slotline.events.contract.common import (
    Channel,
    Consents,
    Contact,
    Id,
    PaymentToken,
)
from slotline.events.envelope import Message
from slotline.events.topics import BOOKING_REQUESTS

ChangeAuthorization = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=4096,
        description="Proof the sender may change this booking: the customer's manage-link "
        "token for it, or an access token (JWT) with the channel role of the booking's "
        "tenant. Without a valid one the request is refused (reason not_authorized).",
    ),
]


class BookingRequest(Message):
    TOPIC: ClassVar[str] = BOOKING_REQUESTS
    KEY: ClassVar[str] = "{booking_id}"
    ABSTRACT: ClassVar[bool] = True


class BookingRequested(BookingRequest):
    """A customer asks for a slot. The few fields a mobile form needs, plus options."""

    KEY: ClassVar[str] = "{request_id}"

    request_id: Id = Field(description="Unique per request; repeats return the first outcome.")
    channel: Channel = Field(description="The adapter the request came through.")
    contact: Contact = Field(description="Who asks: name plus phone or e-mail.")
    service_id: Id = Field(description="The service asked for.")
    location_id: Id = Field(description="Where.")
    slot_start: AwareDatetime = Field(description="Start of the slot asked for.")
    preferred_staff_id: Id | None = Field(
        default=None, description="A staff member the customer asked for."
    )
    notes: str | None = Field(
        default=None, max_length=2000, description="Free text from the customer."
    )
    consents: Consents = Field(default_factory=Consents, description="What may be sent to them.")
    source_call_id: Id | None = Field(default=None, description="A missed call it answers.")
    idempotency_key: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The HTTP Idempotency-Key or the adapter's own; repeats return the "
        "first outcome like a repeated request_id.",
    )
    preferred_resource_id: Id | None = Field(
        default=None, description="A room or piece of equipment the customer asked for."
    )
    payment_token: PaymentToken | None = Field(
        default=None, description="Gateway token for a deposit or prepayment, if one is due."
    )


class BookingCancellationRequested(BookingRequest):
    """A channel asks to cancel a booking on the customer's behalf."""

    request_id: Id = Field(description="Unique per request; repeats return the first outcome.")
    booking_id: Id = Field(description="The booking to cancel.")
    channel: Channel = Field(description="The adapter the request came through.")
    reason: str | None = Field(default=None, max_length=500, description="As the customer gave it.")
    authorization: ChangeAuthorization = None


class BookingRescheduleRequested(BookingRequest):
    """A channel asks to move a booking to another start."""

    request_id: Id = Field(description="Unique per request; repeats return the first outcome.")
    booking_id: Id = Field(description="The booking to move; its id stays.")
    channel: Channel = Field(description="The adapter the request came through.")
    slot_start: AwareDatetime = Field(description="The new start asked for.")
    preferred_staff_id: Id | None = Field(
        default=None, description="A staff member the customer asked for."
    )
    authorization: ChangeAuthorization = None
