"""Quiet hours: non-urgent texts only inside the recipient's local sending window.

The window is per tenant but always inside 08:00–21:00 of the recipient's local
time; the zone comes from the phone number when the number has exactly one, else
from the booking's location.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import timezone as number_zones

EARLIEST = time(8, 0)
LATEST = time(21, 0)


@dataclass(frozen=True)
class SendingWindow:
    """Local hours [opens, closes) in which non-urgent texts may be sent."""

    opens: time = EARLIEST
    closes: time = LATEST

    def __post_init__(self) -> None:
        if self.opens >= self.closes:
            raise ValueError("the sending window must open before it closes")

    def clamped(self) -> SendingWindow:
        """The tenant's window, never wider than 08:00–21:00."""
        return SendingWindow(max(self.opens, EARLIEST), min(self.closes, LATEST))

    def next_allowed(self, at: datetime, zone: ZoneInfo) -> datetime:
        """``at`` itself when inside the window, else the window's next opening."""
        window = self.clamped()
        local = at.astimezone(zone)
        if window.opens <= local.time() < window.closes:
            return at
        day = local.date() if local.time() < window.opens else local.date() + timedelta(days=1)
        opening = datetime.combine(day, window.opens, tzinfo=zone)
        return opening.astimezone(at.tzinfo)


def zone_of_number(phone: str) -> str | None:
    """The number's IANA zone when it has exactly one (a Greek mobile: Europe/Athens)."""
    try:
        number = phonenumbers.parse(phone)
    except phonenumbers.NumberParseException:
        return None
    zones = {z for z in number_zones.time_zones_for_number(number) if z != "Etc/Unknown"}
    return zones.pop() if len(zones) == 1 else None


def recipient_zone(phone: str | None, fallback: str | None, default: str = "UTC") -> ZoneInfo:
    """Where the recipient is: the number's zone, else the booking's, else ``default``."""
    name = (zone_of_number(phone) if phone else None) or fallback or default
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo(default)
