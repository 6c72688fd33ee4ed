"""Keeps ``booking_view`` and the bookings' lines of the timeline current from the
booking store (one leader per store; rows and position in one transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from eventsourcing.persistence import Notification

from slotline.booking.domain.booking import Booking
from slotline.booking.live import board
from slotline.booking.live.board import Entry
from slotline.events.projection import Projection

PROJECTION_NAME = "booking-board"


class BookingBoard(Projection):
    projection_name = PROJECTION_NAME

    def project(self, notifications: Sequence[Notification]) -> None:
        """Upsert each touched booking's row (its latest state) and a timeline line per
        event that a customer would recognise."""
        happened: list[tuple[Any, str]] = []  # (event, its name on the aggregate)
        for notification in notifications:
            event = self.app.mapper.to_domain_event(notification)
            owner, _, name = type(event).__qualname__.partition(".")
            if owner == "Booking":
                happened.append((event, name))
        touched = [event.originator_id for event, _ in happened]
        latest = self.app.get_many(touched) if touched else {}
        lines = [
            line
            for event, name in happened
            if (line := _entry(event, name, latest.get(event.originator_id))) is not None
        ]
        with self.recorder.datastore.transaction(commit=True) as cursor:
            for booking in latest.values():
                if isinstance(booking, Booking):
                    row = view_row(booking)
                    board.upsert_booking(cursor, self.schema, row)
                    board.announce(cursor, row)
            board.add_entries(cursor, self.schema, lines)
            self.record_position(cursor, notifications)


def view_row(booking: Booking) -> dict[str, Any]:
    paid = booking.amount_paid
    return {
        "booking_id": booking.id,
        "tenant_id": booking.tenant_id,
        "reference": booking.reference,
        "request_id": booking.request_id,
        "customer_id": booking.customer_id,
        "customer_name": booking.contact.name,
        "phone": booking.contact.phone,
        "email": booking.contact.email,
        "channel": booking.channel,
        "status": booking.status.value,
        "status_reason": booking.status_reason,
        "service_id": booking.terms.service_id,
        "service_name": booking.terms.service_name,
        "location_id": booking.terms.location_id,
        "time_zone": booking.terms.time_zone,
        "slot_start": booking.slot_start,
        "slot_end": booking.slot_end,
        "resource_ids": booking.resource_ids,
        "paid_minor": paid.amount_minor if paid else None,
        "currency": paid.currency if paid else None,
        "changes": booking.changes,
        "arrived_at": booking.arrived_at,
        "requested_at": booking.requested_at,
        "version": booking.version,
    }


def local_time(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%a %d %b %Y %H:%M")


_SUMMARIES = {
    "Confirmed": "Booked {service} for {when} ({reference})",
    "Rejected": "Booking of {service} for {when} refused: {reason}",
    "Expired": "Booking of {service} expired unconfirmed",
    "Cancelled": "Cancelled {service} of {when}",
    "Rescheduled": "Moved {service} to {when}",
    "ChangeRefused": "Could not move {service}: {change_reason}",
    "Arrived": "Arrived for {service} of {when}",
    "Completed": "Came for {service}",
    "NoShow": "Did not come for {service} of {when}",
}


def _entry(event: Any, name: str, booking: Any) -> Entry | None:
    template = _SUMMARIES.get(name)
    if template is None or not isinstance(booking, Booking):
        return None
    start = getattr(event, "slot_start", None) or booking.slot_start
    refusal = getattr(event, "refusal", None) or {}
    summary = template.format(
        service=booking.terms.service_name or booking.terms.service_id,
        when=local_time(start, booking.terms.time_zone),
        reference=booking.reference,
        reason=(booking.refusal.reason if booking.refusal else ""),
        change_reason=refusal.get("reason", ""),
    )
    return Entry(
        entry_id=f"booking:{booking.id}:{event.originator_version}",
        tenant_id=booking.tenant_id,
        occurred_at=event.timestamp,
        kind=f"Booking{name}",
        summary=summary,
        phone=booking.contact.phone,
        email=booking.contact.email,
        booking_id=str(booking.id),
    )
