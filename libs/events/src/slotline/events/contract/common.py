"""Value types shared by the messages of several topics."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

E164 = Annotated[str, Field(pattern=r"^\+[1-9]\d{6,14}$", description="Phone number, E.164.")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code.")]
Id = Annotated[str, Field(min_length=1, max_length=128)]
Tag = Annotated[str, Field(min_length=1, max_length=64)]


class Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Money(Value):
    """An amount in minor units (cents) — never a float."""

    amount_minor: int = Field(ge=0, description="Amount in the currency's minor unit.")
    currency: Currency


class TimeSlot(Value):
    """A half-open UTC interval [start, end)."""

    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class Channel(StrEnum):
    WEB = "web"
    WHATSAPP = "whatsapp"
    PHONE = "phone"
    KIOSK = "kiosk"
    PARTNER = "partner"
    STAFF = "staff"


class MessageChannel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WHATSAPP = "whatsapp"


class ResourceKind(StrEnum):
    STAFF = "staff"
    ROOM = "room"
    EQUIPMENT = "equipment"


class SlotStatus(StrEnum):
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

    name: str = Field(min_length=1, max_length=200)
    phone: E164 | None = None
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    language: str = Field(default="en", pattern=r"^[a-z]{2}(-[A-Z]{2})?$")

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        if not self.phone and not self.email:
            raise ValueError("a contact needs a phone number or an e-mail address")
        return self


class Consents(Value):
    """What the customer agreed to be sent; transactional and marketing kept apart."""

    transactional: bool = True
    marketing: bool = False


class SlotOffer(Value):
    """A free slot offered as an alternative, with the resources that would serve it."""

    slot: TimeSlot
    resource_ids: list[Id] = Field(default_factory=list)


class WeeklyRange(Value):
    weekday: int = Field(ge=0, le=6, description="0 = Monday.")
    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="Local HH:MM.")
    end: str = Field(pattern=r"^([01]\d|2[0-4]):[0-5]\d$", description="Local HH:MM.")


class DateOverride(Value):
    """Hours for one local date instead of the weekly ones; no ranges = closed."""

    day: date
    ranges: list[tuple[str, str]] = Field(default_factory=list)


class Receipt(Value):
    url: str = Field(max_length=2048)
    issued_at: datetime
