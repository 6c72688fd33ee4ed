"""RFC 5545 calendar files: one per booking (invite, update, cancel) and per-resource
feeds, with the tokens of their secret URLs.

The UID is stable for a booking (its id survives reschedules) and SEQUENCE goes up
with each change, so a calendar app updates or removes the entry it already has.
Times carry the location's TZID with a matching VTIMEZONE.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar, Event, Timezone

from slotline.events.signed_links import LinkRefused, LinkSigner
from slotline.notifier.domain.booking_card import CANCELLED, BookingCard

PRODUCT_ID = "-//Slotline//Notifier//EN"
_FEED_AUDIENCE = "slotline-feed"


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


@functools.lru_cache(maxsize=512)
def _zone(tzid: str, first_year: int, last_year: int) -> Timezone | None:
    """A VTIMEZONE for ``tzid`` over those years, made once: making one walks the zone's
    transitions (py-spy: 12 % of the notifier's CPU when made per file). Never changed
    after, so calendars share it; None for a zone icalendar does not know."""
    try:
        return Timezone.from_tzid(
            tzid, first_date=date(first_year, 1, 1), last_date=date(last_year, 1, 1)
        )
    except ValueError:
        return None


def _with_zones(calendar: Calendar, starts: Iterable[datetime]) -> bytes:
    """The calendar as bytes, with a VTIMEZONE (first) for each TZID its times use."""
    years = [s.year for s in starts] or [date.today().year]
    for tzid in sorted(calendar.get_missing_tzids()):
        zone = _zone(tzid, min(years) - 1, max(years) + 2)
        if zone is not None:
            calendar.subcomponents.insert(len(calendar.timezones), zone)
    return bytes(calendar.to_ical())


def booking_ics(card: BookingCard, stamp: datetime, organizer_email: str | None = None) -> str:
    """The .ics for a booking's current state: REQUEST while it stands, CANCEL after."""
    method = "CANCEL" if card.status == CANCELLED else "REQUEST"
    calendar = _calendar(method)
    calendar.add_component(_event(card, stamp, organizer_email))
    return _with_zones(calendar, [card.starts_at]).decode()


def resource_feed(name: str, cards: Iterable[BookingCard], stamp: datetime) -> bytes:
    """A subscribable calendar of one resource's bookings — a staff member, a room, a
    piece of equipment alike (cancelled ones marked)."""
    calendar = _calendar(None, name)
    cards = list(cards)
    for card in cards:
        calendar.add_component(_event(card, stamp, None))
    return _with_zones(calendar, [c.starts_at for c in cards])


class InvalidFeedToken(Exception):
    """The feed token is forged, for another feed, expired or rotated out. Its text says
    no more than that, and the route answers a plain 404: which check failed, or whether
    the tenant or resource exists, would help whoever guesses feed URLs."""

    def __init__(self) -> None:
        super().__init__("no such feed")


@dataclass(frozen=True)
class FeedGrant:
    """What a valid feed token grants: one resource's feed of one tenant, as of a version."""

    tenant_id: str
    resource_id: str
    version: int
    expires_at: datetime


@dataclass(frozen=True)
class FeedTokens:
    """The secret token in a resource's feed URL: a JWT (HS256, as manage links) naming
    the tenant, the resource and the feed's version, with a required expiry. Rotating a
    feed moves its version on, so every earlier token stops opening it."""

    secret: str
    valid_for: timedelta = timedelta(days=365)

    def token(self, tenant_id: str, resource_id: str, version: int, now: datetime) -> str:
        claims: dict[str, object] = {
            "tnt": tenant_id,
            "sub": resource_id,
            "ver": version,
            "exp": int((now + self.valid_for).timestamp()),
        }
        return LinkSigner(self.secret, _FEED_AUDIENCE).sign(claims)

    def read(self, token: str, tenant_id: str, resource_id: str, now: datetime) -> FeedGrant:
        """What ``token`` grants on the feed of ``resource_id`` of ``tenant_id`` at ``now``;
        raises :class:`InvalidFeedToken` (forged, another feed, expired, no expiry)."""
        try:
            claims = LinkSigner(self.secret, _FEED_AUDIENCE).read(
                token,
                "sub",
                "tnt",
                "ver",
                check_expiry=False,  # against the service's clock below, not the host's
            )
            expires_at = datetime.fromtimestamp(int(claims["exp"]), UTC)
            version = claims["ver"]
            if not isinstance(version, int) or isinstance(version, bool):
                raise InvalidFeedToken
        except (LinkRefused, KeyError, ValueError, TypeError, OverflowError, OSError):
            raise InvalidFeedToken from None
        if (claims["tnt"], claims["sub"]) != (tenant_id, resource_id) or expires_at <= now:
            raise InvalidFeedToken
        return FeedGrant(tenant_id, resource_id, version, expires_at)
