"""Request bodies of the booking API: the few fields a mobile form needs, checked and
normalised here so a bad one is a 422 that names the field."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
    model_validator,
)

from slotline.booking.domain.contact import InvalidContact, normalise_email, normalise_phone
from slotline.booking.domain.request import MARKETING_CONSENT_NOT_TAKEN
from slotline.events.clock import AwareInstant
from slotline.events.contract.common import (
    EMAIL_PART,
    Channel,
    Consents,
    Language,
    NoCardNumber,
    PaymentToken,
)

NO_CARD_NUMBER = r"^(?![\s\S]*(?:\d[ -]?){12,18}\d)"
"""What ``NoCardNumber`` refuses, as the start of a pattern: no run of 13–19 digits."""

FreeText = Annotated[
    str,
    Field(
        max_length=2000,
        description="Free text; no card number (13–19 digits) in it.",
        json_schema_extra={"pattern": NO_CARD_NUMBER + r"[^\u0000]*$"},
    ),
    AfterValidator(NoCardNumber.func),
]
ObjectId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_\-:.]+$")]
Token = Annotated[
    PaymentToken,
    Field(json_schema_extra={"pattern": NO_CARD_NUMBER + r"[A-Za-z0-9_\-]+$"}),
]
"""A gateway token, as the contract has it; its document says it holds no card number."""

_SPACE = r"[ \t\n\r]*"
EMAIL = rf"^{_SPACE}({EMAIL_PART}@{EMAIL_PART}\.{EMAIL_PART})?{_SPACE}$"
"""An e-mail address (blank = none), surrounding spaces allowed: what the message's
``Contact.email`` takes once trimmed. Its parts exclude what any regex engine reading it
(ECMA, Python, Rust) calls a space or a control character: they disagree on some."""

PHONE = (
    "Phone in any common format: with its country code (+30 …, 0030 …) or in national"
    " digits, read in the location's country. It must be a valid number there (numbering"
    " plans: refused 422 otherwise); blank = none. E.164 stored."
)
_VISIBLE = EMAIL_PART.removesuffix("+").replace("[^@", "[^", 1)
"""A character no regex engine and no ``str.strip`` takes for a space or a control
character (ECMA's ``\\S`` matches ``\\x1c``, which Python strips)."""
REACHABLE: dict[str, Any] = {
    "anyOf": [
        {"required": [field], "properties": {field: {"type": "string", "pattern": _VISIBLE}}}
        for field in ("phone", "email")
    ]
}
"""The request's JSON Schema says what ``_reachable`` checks: a phone or an e-mail, not
blank."""


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


class ConsentsForm(BaseModel):
    """What the customer agreed to be sent (the contract's ``Consents``), as JSON booleans."""

    model_config = ConfigDict(extra="forbid")

    transactional: StrictBool = Field(
        default=True, description="Confirmations, reminders, receipts about their bookings."
    )
    marketing: StrictBool = Field(default=False, description="Offers and news; never assumed.")

    def to_contract(self) -> Consents:
        return Consents(transactional=self.transactional, marketing=self.marketing)


class PublicConsentsForm(ConsentsForm):
    """Consents on the public form: marketing consent is not taken there (anyone may type
    any phone number), only from a customer the front desk knows."""

    marketing: Literal[False] = Field(
        default=False, description="Always false here: not taken on an anonymous form."
    )

    @field_validator("marketing", mode="before")
    @classmethod
    def _boolean(cls, value: Any) -> Any:
        if value is not False:
            raise ValueError(MARKETING_CONSENT_NOT_TAKEN)
        return value


class ContactForm(BaseModel):
    """Who the customer is and how to reach them, as every form that adds a customer
    asks it (a booking, a place on the waitlist): a phone number or an e-mail address is
    required (``anyOf`` in the schema, and checked here)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=REACHABLE)

    name: str = Field(min_length=1, max_length=200, description="The customer's name.")
    phone: str | None = Field(default=None, max_length=40, description=PHONE)
    email: str | None = Field(
        default=None, max_length=254, pattern=EMAIL, description="E-mail address."
    )
    language: Language = Field(default="en", description="Preferred language, e.g. en, el.")

    _normalise_phone = field_validator("phone")(_phone)
    _normalise_email = field_validator("email")(_email)

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        if not self.phone and not self.email:
            raise ValueError("give a phone number or an e-mail address (phone or email)")
        return self


class _Request(ContactForm):
    """What every booking request over HTTP says; the Kafka ``BookingRequested`` carries
    the same."""

    service_id: ObjectId = Field(description="The service booked.")
    location_id: ObjectId = Field(description="Where.")
    start: AwareInstant = Field(description="Slot start with its UTC offset.")
    staff_id: ObjectId | None = Field(default=None, description="A staff member asked for.")
    resource_id: ObjectId | None = Field(default=None, description="A room or equipment asked for.")
    notes: FreeText | None = Field(default=None, description="Free text from the customer.")
    payment_token: Token | None = Field(
        default=None,
        description="Gateway token when a deposit or prepayment is due (422 when it is"
        " due and missing).",
    )
    request_id: ObjectId | None = Field(
        default=None, description="Your id for the request (generated if absent)."
    )


class BookingForm(_Request):
    """A booking request from the front desk or a channel adapter. Only the front desk
    may say that a request came by phone or from the desk, answers a missed call, or has
    marketing consent: a channel's token saying so is refused (422)."""

    consents: ConsentsForm = Field(
        default_factory=ConsentsForm, description="What may be sent to them."
    )
    source_call_id: ObjectId | None = Field(default=None, description="A missed call it answers.")
    channel: Channel = Field(default=Channel.WEB, description="The adapter it came through.")


PublicChannel = Literal[Channel.WEB, Channel.WHATSAPP, Channel.KIOSK, Channel.PARTNER]


class PublicBookingForm(_Request):
    """A booking request from the public booking page: no account, so it says nothing
    only the front desk knows (no phone or desk channel, missed call, marketing consent)."""

    consents: PublicConsentsForm = Field(
        default_factory=PublicConsentsForm, description="What may be sent to them."
    )
    channel: PublicChannel = Field(default=Channel.WEB, description="The adapter it came through.")

    def as_booking_form(self) -> BookingForm:
        consents = ConsentsForm.model_construct(**dict(self.consents))
        return BookingForm.model_construct(**{**dict(self), "consents": consents})


class CancelForm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: FreeText | None = Field(default=None, description="Why, as the customer says it.")


class RescheduleForm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: AwareInstant = Field(description="The new start with its UTC offset.")
    staff_id: ObjectId | None = Field(default=None, description="A staff member asked for.")
