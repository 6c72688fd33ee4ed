"""Request bodies of the booking API: the few fields a mobile form needs, checked and
normalised here so a bad one is a 422 that names the field."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from slotline.booking.domain.contact import InvalidContact, normalise_email, normalise_phone
from slotline.events.contract.common import Channel, Consents, Language, NoCardNumber, PaymentToken

FreeText = Annotated[str, Field(max_length=2000), AfterValidator(NoCardNumber.func)]
ObjectId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_\-:.]+$")]


def _phone(value: str | None) -> str | None:
    """International numbers are normalised here; national ones ("694 …") by the route,
    with the business's default region."""
    if value is None or not value.strip():
        return None
    if not value.strip().startswith(("+", "00")):
        return value.strip()
    try:
        return normalise_phone(value)
    except InvalidContact as error:
        raise ValueError(str(error)) from None


def _email(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    try:
        return normalise_email(value)
    except InvalidContact as error:
        raise ValueError(str(error)) from None


class BookingForm(BaseModel):
    """A booking request over HTTP; the Kafka ``BookingRequested`` carries the same."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="The customer's name.")
    phone: str | None = Field(
        default=None, max_length=40, description="Phone in any common format (E.164 stored)."
    )
    email: str | None = Field(default=None, max_length=254, description="E-mail address.")
    language: Language = Field(default="en", description="Preferred language, e.g. en, el.")
    service_id: ObjectId = Field(description="The service booked.")
    location_id: ObjectId = Field(description="Where.")
    start: AwareDatetime = Field(description="Slot start with its UTC offset.")
    staff_id: ObjectId | None = Field(default=None, description="A staff member asked for.")
    resource_id: ObjectId | None = Field(default=None, description="A room or equipment asked for.")
    notes: FreeText | None = Field(default=None, description="Free text from the customer.")
    consents: Consents = Field(default_factory=Consents, description="What may be sent to them.")
    payment_token: PaymentToken | None = Field(
        default=None, description="Gateway token when a deposit or prepayment is due."
    )
    source_call_id: ObjectId | None = Field(default=None, description="A missed call it answers.")
    request_id: ObjectId | None = Field(
        default=None, description="Your id for the request (generated if absent)."
    )
    channel: Channel = Field(default=Channel.WEB, description="The adapter it came through.")

    _normalise_phone = field_validator("phone")(_phone)
    _normalise_email = field_validator("email")(_email)

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        if not self.phone and not self.email:
            raise ValueError("give a phone number or an e-mail address (phone or email)")
        return self


class CancelForm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: FreeText | None = Field(default=None, description="Why, as the customer says it.")


class RescheduleForm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: AwareDatetime = Field(description="The new start with its UTC offset.")
    staff_id: ObjectId | None = Field(default=None, description="A staff member asked for.")
