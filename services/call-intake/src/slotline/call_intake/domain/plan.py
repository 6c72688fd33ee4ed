"""A tenant's call plan: hours, teams, lines, overflow, voicemail, recording, manager.

The plan is the business's own configuration (set by a manager over HTTP and stored as
an event). Its rules — open or not at an instant, which team answers a number, which
numbers are the business's own — are pure functions of the plan and a clock.
"""

from __future__ import annotations

from datetime import datetime, time
from enum import StrEnum
from typing import Annotated, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
    model_validator,
)

from slotline.events.clock import IANA_ZONE, Day

Phone = Annotated[str, Field(pattern=r"^\+[1-9]\d{6,14}$", description="Phone number, E.164.")]
Clock = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$", description="HH:MM")]
Name = Annotated[str, Field(min_length=1, max_length=128)]


class RingStrategy(StrEnum):
    """How a team's phones ring: all at once, in turn, or the one idle longest first."""

    SIMULTANEOUS = "simultaneous"
    ROUND_ROBIN = "round_robin"
    LONGEST_IDLE = "longest_idle"


class RecordingConsent(StrEnum):
    """Whether calls are recorded: always (disclosed), on a key press, unless declined, never."""

    ALWAYS = "always"
    OPT_IN = "opt_in"
    OPT_OUT = "opt_out"
    NEVER = "never"


class PlanValue(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Member(PlanValue):
    """A person whose phone a team rings."""

    staff_id: Name
    phone: Phone
    skills: list[Name] = Field(default_factory=list, description="e.g. spanish, billing.")


class Team(PlanValue):
    """People who answer together, with how their phones ring."""

    team_id: Name
    members: list[Member] = Field(min_length=1)
    strategy: RingStrategy = RingStrategy.SIMULTANEOUS
    ring_timeout_seconds: int = Field(
        default=18, ge=5, le=60, description="Short, so a phone's own voicemail never answers."
    )


class Line(PlanValue):
    """One of the business's numbers and the team (and skill) that answers it."""

    number: Phone
    team_id: Name
    skill: Name | None = Field(default=None, description="Only members with this skill ring.")


class WhatsAppNumber(PlanValue):
    """One of the business's WhatsApp Cloud API numbers, by the id Meta signs into every
    webhook (``entry[].changes[].value.metadata.phone_number_id``)."""

    phone_number_id: str = Field(
        pattern=r"^[0-9A-Za-z_-]{1,64}$", description="Meta's phone number id (not the number)."
    )
    number: Phone | None = Field(default=None, description="The number itself, for reference.")


class OpeningHours(PlanValue):
    """Opening hours on one weekday (0 = Monday), local time of the plan's zone."""

    weekday: int = Field(ge=0, le=6)
    start: Clock
    end: Clock

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class Manager(PlanValue):
    """Whom a callback about to breach its SLA is escalated to."""

    staff_id: Name
    phone: Phone | None = None
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class CallPlan(PlanValue):
    """Everything call-intake needs to know about one business's phones."""

    business_name: str = Field(min_length=1, max_length=200)
    time_zone: str = Field(
        description="IANA zone of the location, e.g. Europe/Athens.", json_schema_extra=IANA_ZONE
    )
    hours: list[OpeningHours] = Field(default_factory=list)
    holidays: list[Day] = Field(default_factory=list, description="Local dates closed all day.")
    teams: list[Team] = Field(min_length=1)
    lines: list[Line] = Field(default_factory=list, description="Unlisted numbers: first team.")
    overflow_number: Phone | None = Field(
        default=None, description="Answering service when the team is busy or it is after hours."
    )
    voicemail: StrictBool = Field(default=True, description="Take a message as the last step.")
    recording: RecordingConsent = RecordingConsent.NEVER
    manager: Manager | None = None
    own_numbers: list[Phone] = Field(
        default_factory=list, description="Other numbers of the business; never texted back."
    )
    whatsapp_numbers: list[WhatsAppNumber] = Field(
        default_factory=list,
        description="The business's WhatsApp numbers: a webhook is taken for this tenant only "
        "when every message in it was sent to one of them.",
    )
    booking_url: str = Field(
        min_length=8, max_length=1000, description="Booking page; the caller's number is added."
    )
    text_back: StrictBool = Field(default=True, description="Text missed callers back.")
    text_back_window_minutes: int | None = Field(default=None, ge=1, le=24 * 60)
    callback_sla_minutes: int | None = Field(default=None, ge=1, le=24 * 60)
    hold_text_backs_in_quiet_hours: StrictBool = Field(
        default=False,
        description="Hold text-backs to callers outside 08:00–21:00 their time until 08:00. "
        "Off by default: a text-back answers a call the caller has just made.",
    )
    language: str = Field(default="en", pattern=r"^[a-z]{2}(-[A-Z]{2})?$")

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        ids = [t.team_id for t in self.teams]
        if len(set(ids)) != len(ids):
            raise ValueError("team ids must be unique")
        for line in self.lines:
            if line.team_id not in ids:
                raise ValueError(f"line {line.number} names unknown team {line.team_id!r}")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def opening(self, now: datetime) -> str:
        """``open``, ``holiday`` or ``after_hours`` at ``now`` in the location's zone."""
        local = now.astimezone(self.zone)
        if local.date() in self.holidays:
            return "holiday"
        clock = local.time()
        for hours in self.hours:
            if hours.weekday == local.weekday() and _at(hours.start) <= clock < _end(hours.end):
                return "open"
        return "after_hours"

    def line(self, dialled: str) -> Line:
        """The line for a dialled number (the first team's, if it is not listed)."""
        for line in self.lines:
            if line.number == dialled:
                return line
        return Line(number=dialled, team_id=self.teams[0].team_id)

    def team(self, team_id: str) -> Team:
        return next(t for t in self.teams if t.team_id == team_id)

    def whatsapp_number_ids(self) -> frozenset[str]:
        """Meta's ids of the numbers this business receives WhatsApp messages on."""
        return frozenset(n.phone_number_id for n in self.whatsapp_numbers)

    def business_numbers(self) -> frozenset[str]:
        """Numbers that belong to the business itself: never a customer to text."""
        numbers = {line.number for line in self.lines} | set(self.own_numbers)
        numbers |= {n.number for n in self.whatsapp_numbers if n.number}
        numbers |= {m.phone for t in self.teams for m in t.members}
        if self.overflow_number:
            numbers.add(self.overflow_number)
        if self.manager and self.manager.phone:
            numbers.add(self.manager.phone)
        return frozenset(numbers)


def _at(clock: str) -> time:
    return time.fromisoformat(clock)


def _end(clock: str) -> time:
    return time.max if clock == "24:00" else time.fromisoformat(clock)
