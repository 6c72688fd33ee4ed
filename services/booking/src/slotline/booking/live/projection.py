"""Keeps ``booking_view`` and the bookings' lines of the timeline current from the
booking store (one leader per store; rows and position in one transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.persistence import Notification

from slotline.booking.domain.booking import Booking
from slotline.booking.live import board
from slotline.booking.live.board import Entry
from slotline.events.contract.timeline import LineKind
from slotline.events.privacy import erasure_lock
from slotline.events.privacy.personal import ERASED
from slotline.events.projection import Projection

PROJECTION_NAME = "booking-board"


class BookingBoard(Projection):
    projection_name = PROJECTION_NAME

    def project(self, notifications: Sequence[Notification]) -> None:
        """Upsert each touched booking's row (its latest state) and a timeline line per
        event that a customer would recognise."""
        with self.recorder.datastore.transaction(commit=True) as cursor:
            erasure_lock.projecting(cursor, self.schema)  # before decoding: see its doc
            happened: list[Any] = []
            for notification in notifications:
                event = self.app.mapper.to_domain_event(notification)
                if isinstance(event, Booking.Event):
                    happened.append(event)
            touched = [event.originator_id for event in happened]
            with self.app.borrowing(touched) as latest:  # read, not copied (py-spy: 4 %)
                bookings = [b for b in latest.values() if isinstance(b, Booking)]
                erased = self._erased(cursor, bookings)
                lines = [
                    line
                    for event in happened
                    if (booking := latest.get(event.originator_id)) is not None
                    and booking.customer_id not in erased
                    and (line := _entry(event, booking)) is not None
                ]
                rows = [view_row(b, erased=b.customer_id in erased) for b in bookings]
            seal = self.app.read_seal
            board.upsert_bookings(cursor, self.schema, rows, seal)
            board.add_entries(cursor, self.schema, lines, seal)
            self.record_position(cursor, notifications)

    def _erased(self, cursor: Any, bookings: Sequence[Booking]) -> set[UUID]:
        """The customers among ``bookings``' whose key is destroyed, as the database has
        it under the erasure lock: what was decoded may still show them, opened with a
        key cached before their erasure (here, or in the replica that erased them)."""
        subjects = {(b.tenant_id, str(b.customer_id)) for b in bookings}
        return {UUID(subject) for _, subject in self.app.vault.keyless(cursor, subjects)}


def view_row(booking: Booking, *, erased: bool = False) -> dict[str, Any]:
    """The booking's ``booking_view`` row; ``erased``: its customer's as the erasure left
    it (the placeholder, no number or address)."""
    paid = booking.amount_paid
    contact = booking.contact
    return {
        "booking_id": booking.id,
        "tenant_id": booking.tenant_id,
        "reference": booking.reference,
        "request_id": booking.request_id,
        "customer_id": booking.customer_id,
        "customer_name": ERASED if erased else contact.name,
        "phone": None if erased else _unless_erased(contact.phone),
        "email": None if erased else _unless_erased(contact.email),
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


def _unless_erased(value: str | None) -> str | None:
    """An erased person's number or address reads as the placeholder: the row keeps
    none, as the erasure left it (a batch projected after it writes the same)."""
    return None if value == ERASED else value


def local_time(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%a %d %b %Y %H:%M")


_LINES: dict[type[Booking.Event], tuple[LineKind, str]] = {
    Booking.Confirmed: (LineKind.BOOKING_CONFIRMED, "Booked {service} for {when} ({reference})"),
    Booking.Rejected: (
        LineKind.BOOKING_REJECTED,
        "Booking of {service} for {when} refused: {reason}",
    ),
    Booking.Expired: (LineKind.BOOKING_EXPIRED, "Booking of {service} expired unconfirmed"),
    Booking.Cancelled: (LineKind.BOOKING_CANCELLED, "Cancelled {service} of {when}"),
    Booking.Rescheduled: (LineKind.BOOKING_RESCHEDULED, "Moved {service} to {when}"),
    Booking.ChangeRefused: (
        LineKind.BOOKING_CHANGE_REFUSED,
        "Could not move {service}: {change_reason}",
    ),
    Booking.Arrived: (LineKind.BOOKING_ARRIVED, "Arrived for {service} of {when}"),
    Booking.Completed: (LineKind.BOOKING_COMPLETED, "Came for {service}"),
    Booking.NoShow: (LineKind.BOOKING_NO_SHOW, "Did not come for {service} of {when}"),
}
"""The events of a booking a customer would recognise: (the line's kind, its summary)."""


def _entry(event: Any, booking: Any) -> Entry | None:
    line = _LINES.get(type(event))
    if line is None or not isinstance(booking, Booking):
        return None
    if booking.contact.name == ERASED:  # the erasure deleted their lines: none anew
        return None
    kind, template = line
    start = getattr(event, "slot_start", None) or booking.slot_start
    refusal = getattr(event, "refusal", None) or {}
    facts = {
        "service": booking.terms.service_name or booking.terms.service_id,
        "start": start.isoformat(),
        "time_zone": booking.terms.time_zone,
        "reference": booking.reference,
        "reason": booking.refusal.reason if booking.refusal else "",
        "change_reason": refusal.get("reason", ""),
    }
    summary = template.format(
        service=facts["service"],
        when=local_time(start, booking.terms.time_zone),
        reference=booking.reference,
        reason=facts["reason"],
        change_reason=facts["change_reason"],
    )
    return Entry(
        entry_id=f"booking:{booking.id}:{event.originator_version}",
        tenant_id=booking.tenant_id,
        occurred_at=event.timestamp,
        kind=kind,
        summary=summary,
        facts=facts,
        phone=booking.contact.phone,
        email=booking.contact.email,
        booking_id=str(booking.id),
    )
