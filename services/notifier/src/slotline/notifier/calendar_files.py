"""RFC 5545 calendar files: one per booking (invite, update, cancel) and per-staff feeds.

The UID is stable for a booking (its id survives reschedules) and SEQUENCE goes up
with each change, so a calendar app updates or removes the entry it already has.
Times carry the location's TZID with a matching VTIMEZONE.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import date, datetime

from icalendar import Calendar, Event

from slotline.notifier.domain.booking_card import CANCELLED, BookingCard

PRODUCT_ID = "-//Slotline//Notifier//EN"


def uid_of(card: BookingCard) -> str:
    return f"{card.booking_id}@{card.tenant_id}.slotline"


def _calendar(method: str | None, name: str | None = None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
    return calendar


def _event(card: BookingCard, stamp: datetime, organizer_email: str | None) -> Event:
    entry = Event()
    entry.add("uid", uid_of(card))
    entry.add("sequence", card.sequence)
    entry.add("dtstamp", stamp)
    entry.add("dtstart", card.starts_at.astimezone(card.zone))
    entry.add("dtend", card.ends_at.astimezone(card.zone))
    entry.add("summary", card.service_name)
    location = ", ".join(p for p in (card.location_name, card.address) if p)
    if location:
        entry.add("location", location)
    description = f"Booking {card.reference}"
    if card.manage_url:
        description += f"\nManage: {card.manage_url}"
        entry.add("url", card.manage_url)
    entry.add("description", description)
    entry.add("status", "CANCELLED" if card.status == CANCELLED else "CONFIRMED")
    if organizer_email:
        entry.add("organizer", f"mailto:{organizer_email}")
    if card.email:
        entry.add("attendee", f"mailto:{card.email}", parameters={"CN": card.customer_name})
    return entry


def _with_zones(calendar: Calendar, starts: Iterable[datetime]) -> bytes:
    years = [s.year for s in starts] or [date.today().year]
    calendar.add_missing_timezones(
        first_date=date(min(years) - 1, 1, 1), last_date=date(max(years) + 2, 1, 1)
    )
    return bytes(calendar.to_ical())


def booking_ics(card: BookingCard, stamp: datetime, organizer_email: str | None = None) -> str:
    """The .ics for a booking's current state: REQUEST while it stands, CANCEL after."""
    method = "CANCEL" if card.status == CANCELLED else "REQUEST"
    calendar = _calendar(method)
    calendar.add_component(_event(card, stamp, organizer_email))
    return _with_zones(calendar, [card.starts_at]).decode()


def staff_feed(name: str, cards: Iterable[BookingCard], stamp: datetime) -> bytes:
    """A subscribable calendar of one staff member's bookings (cancelled ones marked)."""
    calendar = _calendar(None, name)
    cards = list(cards)
    for card in cards:
        calendar.add_component(_event(card, stamp, None))
    return _with_zones(calendar, [c.starts_at for c in cards])


def feed_token(secret: str, tenant_id: str, resource_id: str) -> str:
    """The secret token in a staff feed's URL (an HMAC: revoked by changing the secret)."""
    message = f"{tenant_id}:{resource_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def feed_token_valid(secret: str, tenant_id: str, resource_id: str, token: str) -> bool:
    expected = feed_token(secret, tenant_id, resource_id)
    return hmac.compare_digest(expected.encode(), token.encode())  # str: ASCII only
