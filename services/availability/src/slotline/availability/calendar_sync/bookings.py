"""Bookings owed to linked calendars: the inbox handler of ``booking.events.v1``.

A confirmed or moved booking is owed (present, at its slot) to the calendar of each
allocated resource that has a link, and owed absent to any other calendar that held
it; a cancelled one is owed absent everywhere. The rows are written in the inbox's unit
of work (with the message's position), so a redelivery changes nothing and a crash
loses nothing; the push job writes them out. The envelope's ``sequence`` (the
booking's version) orders the states and is the event's iCalendar ``SEQUENCE``.
"""

from __future__ import annotations

from slotline.availability.calendar_sync.store import LinkStore
from slotline.events.contract.booking import BookingCancelled, BookingConfirmed, BookingRescheduled
from slotline.events.contract.common import TimeSlot
from slotline.events.envelope import Message
from slotline.events.unit_of_work import UnitOfWork

BOOKING_CHANGES: tuple[type[Message], ...] = (
    BookingConfirmed,
    BookingRescheduled,
    BookingCancelled,
)


class BookingsToCalendars:
    """Records what each linked calendar owes a booking after one booking event."""

    def __init__(self, schema: str) -> None:
        self.store = LinkStore(schema)

    def handle(self, message: Message, work: UnitOfWork) -> None:
        if isinstance(message, BookingConfirmed):
            summary = f"{message.service_name} ({message.reference})"
            self._owed(work, message, message.resource_ids, message.slot, summary)
        elif isinstance(message, BookingRescheduled):
            self._owed(work, message, message.resource_ids, message.slot, None)
        elif isinstance(message, BookingCancelled):
            self.store.owe_absent(work.cursor, message.booking_id, message.sequence)

    def _owed(
        self,
        work: UnitOfWork,
        message: BookingConfirmed | BookingRescheduled,
        resource_ids: list[str],
        slot: TimeSlot,
        summary: str | None,
    ) -> None:
        self.store.owe(
            work.cursor,
            message.tenant_id,
            message.booking_id,
            resource_ids,
            (slot.start, slot.end),
            summary,
            message.sequence,
        )
