"""Line-type lookup (a port: carriers answer it in production) and the caller's zone.

The local implementation classifies numbers from the numbering plan metadata of the
``phonenumbers`` library — the same data a carrier lookup starts from — with an explicit
override list for numbers a deployment knows better (ported numbers, tests).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import PhoneNumberType, timezone

from slotline.call_intake.domain.textback import LineType


class LineTypeLookup(Protocol):
    def line_type(self, phone: str) -> LineType: ...


_BY_PLAN = {
    PhoneNumberType.MOBILE: LineType.MOBILE,
    PhoneNumberType.FIXED_LINE: LineType.LANDLINE,
    PhoneNumberType.VOIP: LineType.VOIP,
}


class NumberingPlanLookup:
    """Line types from the numbering plan; a number that could be either counts as unknown."""

    def __init__(self, landlines: Iterable[str] = (), mobiles: Iterable[str] = ()) -> None:
        self.overrides = {n: LineType.LANDLINE for n in landlines}
        self.overrides |= {n: LineType.MOBILE for n in mobiles}

    def line_type(self, phone: str) -> LineType:
        if phone in self.overrides:
            return self.overrides[phone]
        try:
            number = phonenumbers.parse(phone)
        except phonenumbers.NumberParseException:
            return LineType.UNKNOWN
        return _BY_PLAN.get(phonenumbers.number_type(number), LineType.UNKNOWN)


def caller_zone(phone: str, fallback: ZoneInfo) -> ZoneInfo:
    """The caller's time zone from their number; the business's when ambiguous."""
    try:
        zones = timezone.time_zones_for_number(phonenumbers.parse(phone))
    except phonenumbers.NumberParseException:
        return fallback
    known = [z for z in zones if z != "Etc/Unknown"]
    if fallback.key in known or not known:
        return fallback
    return ZoneInfo(known[0]) if len(known) == 1 else fallback
