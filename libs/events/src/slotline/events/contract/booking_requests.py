"""``booking.requests.v1`` — booking requests from every channel adapter.

Published by channel adapters (web widget, WhatsApp bot, phone, kiosk, partner apps)
and by call-intake (WhatsApp intents); consumed by the booking service, which answers on
``booking.events.v1`` correlated by ``request_id``. The booking service's own HTTP
intake (``POST /v1/public/{tenant}/bookings``, staff ``POST /v1/bookings``) does not
pass through this topic: it writes the request to the booking store in the same unit
of work as its answer, and the outcome appears on ``booking.events.v1`` the same way.
The envelope's ``aggregate_id`` (the Kafka key) is the ``request_id`` for a new booking
and the ``booking_id`` for a change, so a request sent twice yields one outcome.

A new request's ``contact`` and ``notes`` may come sealed to the tenant's public request
key (``hpke:v1:…``, :mod:`slotline.events.request_sealing`): an adapter holds no
platform key, and this way no reader of the topic sees who asked. They are opened when
the message is parsed; one that does not open is kept sealed and the request is answered
``BookingRequestRefused`` (reason ``unreadable``), as every request is answered.

A change (cancel, move) must prove it may act on its booking: ``authorization`` carries
the customer's manage-link token for that booking, or an access token with the
``channel`` role of the booking's tenant. The topic's ACLs say who may write; the proof
says whom a request may touch. A request without a valid proof is answered
``BookingRequestRefused`` with reason ``not_authorized``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, ClassVar

from pydantic import (
    AwareDatetime,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    ModelWrapValidatorHandler,
    PrivateAttr,
    ValidationError,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from slotline.events import request_sealing
from slotline.events.contract.common import (
    Channel,
    Consents,
    Contact,
    Id,
    PaymentToken,
)
from slotline.events.envelope import Message, with_sealed_form
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


class UnreadableRequest(ValueError):
    """A sealed field of a request that did not open, or opened to an invalid value."""


class BookingRequest(Message):
    TOPIC: ClassVar[str] = BOOKING_REQUESTS
    KEY: ClassVar[str] = "{booking_id}"
    ABSTRACT: ClassVar[bool] = True


class BookingRequested(BookingRequest):
    """A customer asks for a slot. The few fields a mobile form needs, plus options."""

    KEY: ClassVar[str] = "{request_id}"
    SCHEMA_VERSION: ClassVar[int] = 2
    SEALABLE: ClassVar[tuple[str, ...]] = request_sealing.SEALED_FIELDS
    """Fields that may arrive sealed for booking (version 1: none)."""

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

    _sealed: frozenset[str] = PrivateAttr(default=frozenset())
    _unreadable: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="wrap")
    @classmethod
    def _open_sealed(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        """Open what an adapter sealed for booking; what does not open is noted and held
        by a placeholder, so the request is answered (refused) rather than dead-lettered."""
        if not isinstance(data, dict) or not cls.SEALABLE:
            return handler(data)
        opened, sealed, failed = request_sealing.open_fields(
            data, cls.EVENT_TYPE, cls.SEALABLE, _check_opened
        )
        opened.update({field: _UNREADABLE.get(field) for field in failed})
        message = handler(opened)
        message._sealed, message._unreadable = sealed, tuple(failed.values())
        return message

    def to_json(self) -> bytes:
        """The record's value as published: contact and notes sealed for booking (so a
        Slotline service that forwards a request, e.g. call-intake, sends none in clear)."""
        if not self.SEALABLE:
            return super().to_json()
        data = self.model_dump(mode="json")
        key = request_sealing.request_public_key(self.tenant_id)
        for field in self.SEALABLE:
            if data.get(field) is not None:
                data[field] = request_sealing.seal_for_booking(
                    key, self.tenant_id, self.EVENT_TYPE, field, data[field]
                )
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()

    def came_sealed(self, field: str) -> bool:
        """Whether ``field`` arrived sealed for booking (rather than in clear)."""
        return field in self._sealed

    @property
    def unreadable(self) -> tuple[str, ...]:
        """Why a sealed field could not be read (empty: every one opened)."""
        return self._unreadable

    def __eq__(self, other: object) -> bool:
        """Equal content is equal, whether a copy arrived sealed or in clear."""
        if type(other) is not type(self):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = BookingRequest.__hash__

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """A sealable field is its plain form or its sealed-for-booking form."""
        generated = super().__get_pydantic_json_schema__(schema, handler)
        return with_sealed_form(generated, handler, cls.SEALABLE, request_sealing.SCHEMA)


_UNREADABLE: dict[str, Any] = {
    "contact": {"name": "[unreadable]", "email": "unreadable@unreadable.invalid"},
    "notes": None,
}
"""What holds a sealed field's place when it does not open (the request is refused)."""


def _check_opened(field: str, plain: Any) -> None:
    """An opened value must be what the field holds in clear (errors name no value)."""
    try:
        if field == "contact":
            Contact.model_validate(plain)
        elif not isinstance(plain, str) or len(plain) > 2000:
            raise UnreadableRequest(f"{field}: opened to something other than a text")
    except ValidationError as error:
        where = sorted({".".join(map(str, e["loc"])) or field for e in error.errors()})
        raise UnreadableRequest(
            f"{field}: opened to an invalid value ({', '.join(where)})"
        ) from None


class BookingRequestedV1(BookingRequested):
    """A customer asks for a slot. The few fields a mobile form needs, plus options.

    Version 1, read still: contact and notes in clear (version 2 may seal them for booking).
    """

    model_config = ConfigDict(title=BookingRequested.EVENT_TYPE)
    EVENT_TYPE: ClassVar[str] = BookingRequested.EVENT_TYPE
    SCHEMA_VERSION: ClassVar[int] = 1
    SEALABLE: ClassVar[tuple[str, ...]] = ()


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
