"""Value types shared by the messages of several topics.

Values are tolerant readers like the envelope: a consumer built against v1 ignores
fields added to a value later, so adding an optional field stays compatible.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from slotline.events.clock import in_utc

_CARD_NUMBER = re.compile(r"(?:\d[ -]?){12,18}\d")


def _passes_luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z])\d(?:[ -]?\d){12,18}(?![0-9A-Za-z])")
"""13–19 digits standing on their own: not inside a word or an identifier (``pi_3N…``,
a hex id), where a run of digits is part of something else."""

_UUID = re.compile(r"\b[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\b")
"""A UUID is never a card number, though its all-digit groups joined by dashes can pass
the Luhn check: 1 UUID in ~470 did (a payment's id in a gateway webhook was refused)."""


def _is_card_number(run: str) -> bool:
    return _passes_luhn(re.sub(r"[ -]", "", run))


def _without_uuids(text: str) -> str:
    return _UUID.sub(lambda m: "#" * len(m.group()), text)


def contains_card_number(text: str) -> bool:
    """Whether ``text`` holds a card number: 13–19 digits (spaces or dashes between
    them allowed) on their own, passing the Luhn check — what PAN scanners look for."""
    return any(_is_card_number(m.group()) for m in _DIGIT_RUN.finditer(_without_uuids(text)))


def redact_card_numbers(text: str) -> str:
    """``text`` with every card number masked — for anything that keeps a copy of
    rejected input: dead letters, logs."""
    cards = [
        m.span() for m in _DIGIT_RUN.finditer(_without_uuids(text)) if _is_card_number(m.group())
    ]
    for start, end in reversed(cards):  # same length: the spans hold in the original
        text = text[:start] + "[card number removed]" + text[end:]
    return text


def _not_a_card_number(value: str) -> str:
    """Card numbers never reach Slotline: only gateway tokens do."""
    if _CARD_NUMBER.search(value):
        raise ValueError("looks like a card number; send a gateway token instead")
    return value


E164 = Annotated[str, Field(pattern=r"^\+[1-9]\d{6,14}$", description="Phone number, E.164.")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code.")]
Id = Annotated[str, Field(min_length=1, max_length=128)]
Tag = Annotated[str, Field(min_length=1, max_length=64)]
Language = Annotated[str, Field(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")]
Email = Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]

EMAIL_PART = (
    r"[^@\u0000-\u0020\u007f-\u00a0\u1680\u180e\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]+"
)
"""One part of an e-mail address as HTTP input takes it: no ``@``, and nothing any regex
engine reading the pattern (ECMA, Python, Rust) calls a space or a control character —
they disagree on some (U+0085), which made a schema-valid address a 422."""

EmailInput = Annotated[
    str, Field(max_length=254, pattern=rf"^{EMAIL_PART}@{EMAIL_PART}\.{EMAIL_PART}$")
]
"""An e-mail address in an HTTP request: :data:`Email`'s rule, stated so that every
engine reads it alike."""
Url = Annotated[str, Field(max_length=2048)]
NoCardNumber = AfterValidator(_not_a_card_number)


@dataclass(frozen=True)
class NotMatching:
    """States in the JSON Schema that text matching ``pattern`` is refused (``not``), for
    a rule a validator enforces; beside another ``not`` (no NUL) both are refused."""

    pattern: str

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        stated = handler(schema)
        refused = {"pattern": self.pattern}
        other = stated.get("not")
        stated["not"] = {"anyOf": [other, refused]} if other else refused
        return stated


StatedNoCardNumber = NotMatching(_CARD_NUMBER.pattern)
PaymentToken = Annotated[
    str,
    Field(
        min_length=3,
        max_length=255,
        pattern=r"^[A-Za-z0-9_\-]+$",
        description="Gateway token (e.g. 'pm_…', 'tok_…'); never a card number.",
    ),
    NoCardNumber,
    StatedNoCardNumber,
]


class Value(BaseModel):
    """Base of the value types: immutable, unknown fields ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Money(Value):
    """An amount in minor units (cents) — never a float."""

    amount_minor: int = Field(ge=0, description="Amount in the currency's minor unit.")
    currency: Currency


class TimeSlot(Value):
    """A half-open UTC interval [start, end), end after start; offsets given become UTC."""

    start: AwareDatetime = Field(description="First instant of the slot, UTC.")
    end: AwareDatetime = Field(description="First instant after the slot, UTC.")

    @field_validator("start", "end")
    @classmethod
    def _in_utc(cls, value: datetime) -> datetime:
        return in_utc(value)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class Channel(StrEnum):
    """Where a booking request came from."""

    WEB = "web"
    WHATSAPP = "whatsapp"
    PHONE = "phone"
    KIOSK = "kiosk"
    PARTNER = "partner"
    STAFF = "staff"


class MessageChannel(StrEnum):
    """How a message reaches a person."""

    EMAIL = "email"
    SMS = "sms"
    WHATSAPP = "whatsapp"


class ResourceKind(StrEnum):
    """The one pool holds staff, rooms and equipment alike."""

    STAFF = "staff"
    ROOM = "room"
    EQUIPMENT = "equipment"


class SlotStatus(StrEnum):
    """How bookable a slot is in the live view."""

    AVAILABLE = "available"
    LIMITED = "limited"
    BOOKED = "booked"


class HoldRejection(StrEnum):
    """Why a slot could not be held."""

    TAKEN = "taken"
    OUTSIDE_HOURS = "outside_hours"
    TOO_SHORT_NOTICE = "too_short_notice"
    BEYOND_HORIZON = "beyond_horizon"
    DAILY_LIMIT_REACHED = "daily_limit_reached"
    UNKNOWN_SERVICE = "unknown_service"
    CAPACITY_FULL = "capacity_full"


class Contact(Value):
    """How to reach a customer: a name plus a phone number or an e-mail address."""

    # The rule of _reachable, stated in the JSON Schema for writers who read only that.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": [field], "properties": {field: {"type": "string"}}}
                for field in ("phone", "email")
            ]
        }
    )

    name: str = Field(min_length=1, max_length=200, description="As the customer gave it.")
    phone: E164 | None = Field(default=None, description="Mobile or landline, E.164.")
    email: Email | None = Field(default=None, description="E-mail address.")
    language: Language = Field(default="en", description="Preferred language, e.g. en, el.")

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        if not self.phone and not self.email:
            raise ValueError("a contact needs a phone number or an e-mail address")
        return self


ERASED_EMAIL = "erased@erased.invalid"
"""The address an erased customer's contact reads as on the wire (a domain that never
resolves: RFC 2606), so a record published after an erasure still validates and
reaches no one."""


def erased_contact() -> Contact:
    """What a contact reads as once its customer was erased (a late publish, a replay)."""
    return Contact(name="[erased]", email=ERASED_EMAIL)


class Consents(Value):
    """What the customer agreed to be sent; transactional and marketing kept apart."""

    transactional: bool = Field(
        default=True, description="Confirmations, reminders, receipts about their bookings."
    )
    marketing: bool = Field(default=False, description="Offers and news; never assumed.")


class SlotOffer(Value):
    """A free slot offered as an alternative, with the resources that would serve it."""

    slot: TimeSlot = Field(description="The free slot.")
    resource_ids: list[Id] = Field(
        default_factory=list, description="Resources that would serve it, if already chosen."
    )


class WeeklyRange(Value):
    """Working hours on one weekday, in the location's local time."""

    weekday: int = Field(ge=0, le=6, description="0 = Monday.")
    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="Local HH:MM.")
    end: str = Field(pattern=r"^([01]\d|2[0-4]):[0-5]\d$", description="Local HH:MM.")


class DateOverride(Value):
    """Hours for one local date instead of the weekly ones; no ranges = closed."""

    day: date = Field(description="The local date.")
    ranges: list[tuple[str, str]] = Field(
        default_factory=list, description="Local (HH:MM, HH:MM) ranges worked that day."
    )
