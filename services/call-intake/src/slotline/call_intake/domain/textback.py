"""Whether a missed caller is texted back now, later, or not at all — and why.

Once per caller per window (repeated attempts are not spammed), never to a number that
opted out, to a landline or to the business's own numbers; and, unless the business
says otherwise, not during the caller's quiet hours (held until 08:00 their time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

QUIET_HOURS_END = time(8)
QUIET_HOURS_START = time(21)


class LineType(StrEnum):
    """What a line-type lookup says a number is."""

    MOBILE = "mobile"
    LANDLINE = "landline"
    VOIP = "voip"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class TextBackContext:
    caller_phone: str
    business_numbers: frozenset[str]
    enabled: bool
    opted_out: bool
    last_text_back_at: datetime | None
    window: timedelta
    line_type: LineType
    caller_zone: ZoneInfo
    hold_in_quiet_hours: bool


@dataclass(frozen=True)
class SendNow:
    pass


@dataclass(frozen=True)
class HoldUntil:
    until: datetime


@dataclass(frozen=True)
class Skip:
    reason: str


TextBackDecision = SendNow | HoldUntil | Skip


def decide_text_back(context: TextBackContext, now: datetime) -> TextBackDecision:
    """The text-back rule for one missed call at ``now``."""
    if not context.enabled:
        return Skip("text_back_disabled")
    if context.caller_phone in context.business_numbers:
        return Skip("business_number")
    if context.opted_out:
        return Skip("opted_out")
    if context.line_type is LineType.LANDLINE:
        return Skip("landline")
    last = context.last_text_back_at
    if last is not None and now - last < context.window:
        return Skip("already_texted_in_window")
    if context.hold_in_quiet_hours:
        release = quiet_hours_end(now, context.caller_zone)
        if release is not None:
            return HoldUntil(release)
    return SendNow()


def quiet_hours_end(now: datetime, zone: ZoneInfo) -> datetime | None:
    """08:00 local when ``now`` falls in the caller's quiet hours (21:00–08:00), else None."""
    local = now.astimezone(zone)
    if QUIET_HOURS_END <= local.time() < QUIET_HOURS_START:
        return None
    day = local.date() if local.time() < QUIET_HOURS_END else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_HOURS_END, zone)
