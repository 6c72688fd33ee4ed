"""The booking as an RFC 5545 calendar file (the ``icalendar`` library): a stable UID
per booking, SEQUENCE counting its changes, the location's zone, and
``METHOD:CANCEL`` once it is cancelled, so calendars update the one event."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from slotline.booking.domain.booking import Booking, BookingStatus
from slotline.booking.links import ManageLinks


def ics(booking: Booking, links: ManageLinks) -> bytes:
    terms = booking.terms
    zone = ZoneInfo(terms.time_zone)
    cancelled = booking.status is BookingStatus.CANCELLED
    calendar = Calendar()
    calendar.add("prodid", "-//Slotline//booking//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = Event()
    event.add("uid", f"{booking.id}@slotline")
    event.add("sequence", booking.changes + (1 if cancelled else 0))
    event.add("dtstamp", booking.modified_on)
    event.add("dtstart", booking.slot_start.astimezone(zone))
    event.add("dtend", booking.slot_end.astimezone(zone))
    event.add("summary", f"{terms.service_name} ({booking.reference})")
    event.add("location", ", ".join(p for p in (terms.location_name, terms.address) if p))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add(
        "url", links.url(booking.tenant_id, booking.id, booking.slot_end, booking.link_version)
    )
    calendar.add_component(event)
    calendar.add_missing_timezones()
    ical: bytes = calendar.to_ical()
    return ical
