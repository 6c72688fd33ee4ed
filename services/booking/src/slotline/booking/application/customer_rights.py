"""A customer's rights over their data: erasure (GDPR Art. 17) and export (Art. 15/20),
and the tenant's retention rule that erases customers inactive for too long.

Erasure is crypto-shredding: the customer's data key is destroyed, so their name,
phone, e-mail and notes in every stored event (and every future replay) read as
placeholders, while their bookings, payments and figures stay whole. The read models
drop their timeline and blank their bookings' rows at once; the directory forgets their
phone and e-mail, so a returning customer is a new one under a new key.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from slotline.booking.domain.booking import Booking
from slotline.booking.domain.customer import Customer
from slotline.booking.live import board
from slotline.events.privacy import erasure_lock
from slotline.events.unit_of_work import UnitOfWork
from slotline.events.wire_sealing import pseudonym

if TYPE_CHECKING:
    from slotline.booking.application import BookingApplication


class CustomerRights:
    def __init__(self, app: BookingApplication) -> None:
        self.app = app

    def erase(self, tenant_id: str, customer_id: UUID) -> datetime:
        """Erase the customer in one transaction (record, read models, key); asking
        again changes nothing. When they were erased."""
        app = self.app
        customer = app.customer(tenant_id, customer_id)
        contact = customer.contact
        now = app.clock()

        def act(work: UnitOfWork) -> None:
            erasure_lock.erasing(work.cursor, app.schema)  # no board batch half done
            found = work.get(Customer, customer_id)
            assert found is not None
            found.erase(
                now,
                pseudonym(tenant_id, contact.phone) if contact.phone else None,
                pseudonym(tenant_id, contact.email) if contact.email else None,
            )
            app.directory.forget(tenant_id, customer_id)
            bookings = board.erase_customer(
                work.cursor,
                app.schema,
                tenant_id,
                customer_id,
                contact.phone,
                contact.email,
                app.read_seal,
            )
            # The key goes in the same transaction: erased in full, or not at all.
            app.erase(tenant_id, str(customer_id), [customer_id, *bookings])

        if customer.erased_at is None:
            app.command(act)
        erased = app.customer(tenant_id, customer_id).erased_at
        assert erased is not None
        return erased

    def export(self, tenant_id: str, customer_id: UUID) -> dict[str, Any]:
        """Everything the service keeps about the customer, as JSON-ready data."""
        app = self.app
        customer = app.customer(tenant_id, customer_id)
        contact = customer.contact
        with app.reading() as cursor:
            booking_ids = board.customer_bookings(cursor, app.schema, tenant_id, customer_id)
            lines = board.timeline(
                cursor,
                app.schema,
                tenant_id,
                contact.phone,
                contact.email,
                limit=10_000,
                seal=app.read_seal,
            )
        bookings = [
            _booking(b)
            for b in app.get_many(booking_ids).values()
            if isinstance(b, Booking) and b.tenant_id == tenant_id
        ]
        return {
            "customer_id": str(customer.id),
            "erased_at": customer.erased_at,
            "contact": contact.to_data(),
            "bookings": sorted(bookings, key=lambda b: b["requested_at"]),
            "timeline": lines,
        }

    def inactive(self, tenant_id: str, before: datetime, limit: int) -> list[UUID]:
        """Customers of the tenant whose last booking ended before ``before``."""
        with self.app.reading() as cursor:
            return board.inactive_customers(cursor, self.app.schema, tenant_id, before, limit)


def _booking(booking: Booking) -> dict[str, Any]:
    return {
        "booking_id": str(booking.id),
        "reference": booking.reference,
        "status": booking.status.value,
        "channel": booking.channel,
        "service_id": booking.terms_data.get("service_id"),
        "service_name": booking.terms_data.get("service_name"),
        "slot_start": booking.slot_start,
        "slot_end": booking.slot_end,
        "notes": booking.notes,
        "consents": booking.consents,
        "paid": booking.paid,
        "requested_at": booking.requested_at,
    }
