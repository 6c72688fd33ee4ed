"""Use cases of ``booking.events.v1``: a booking's confirmation, move, cancellation and
end — its card, its notices (with .ics) and its reminders."""

from __future__ import annotations

from datetime import datetime

from slotline.events.contract import booking as bookings
from slotline.events.contract.common import Channel
from slotline.events.logs import get_logger
from slotline.events.unit_of_work import UnitOfWork as Work
from slotline.notifier.application.core import NotifierCore
from slotline.notifier.domain.booking_card import BookingCard, money_text
from slotline.notifier.domain.notices import (
    Notice,
    booking_channels,
    booking_notice,
    reminder_notices,
)
from slotline.notifier.domain.preferences import TenantPreferences
from slotline.notifier.domain.reminders import plan
from slotline.notifier.persistence.unit_of_work import UnitOfWork, joined

log = get_logger(__name__)


class BookingNotices(NotifierCore):
    """What a booking's life queues: confirmation, reminders, move and cancellation notices."""

    def booking_confirmed(self, event: bookings.BookingConfirmed, within: Work) -> None:
        now = self.clock()
        card = card_of(event)
        work = joined(self, within)
        prefs = self.preferences(work, [card.tenant_id])[card.tenant_id]
        work.rows.save_card(card)
        self._enqueue(
            work,
            booking_notice(
                card,
                Notice(
                    "confirmed",
                    "booking_confirmed",
                    now,
                    calendar=self._ics(card),
                    answers_change=True,
                ),
            ),
        )
        self._schedule_reminders(work, card, prefs, now)
        within.after_commit(self._wake)

    def _schedule_reminders(
        self, work: UnitOfWork, card: BookingCard, prefs: TenantPreferences, now: datetime
    ) -> None:
        reminders = self.reminders_of(work, card.tenant_id, card.booking_id)
        planned, too_late = plan(prefs.reminder_kinds, card.starts_at, now)
        reachable = bool(booking_channels(card))
        for reminder in planned:
            if reachable:
                reminders.scheduled(reminder.kind.name, reminder.due_at)
                self._enqueue(work, reminder_notices(card, reminder))
            else:
                reminders.skipped(reminder.kind.name, "no_channel")
        for kind in too_late:
            reminders.skipped(kind.name, "too_late")

    def booking_rescheduled(self, event: bookings.BookingRescheduled, within: Work) -> None:
        now = self.clock()
        work = joined(self, within)
        card = work.rows.load_card(event.tenant_id, event.booking_id)
        if card is None:
            log.warning("reschedule of a booking never confirmed here", booking=event.booking_id)
            return
        card = card.moved(event.slot.start, event.slot.end, tuple(event.resource_ids))
        self._changed(work, card, "rescheduled", f"rescheduled:{card.sequence}", now)
        prefs = self.preferences(work, [card.tenant_id])[card.tenant_id]
        self._schedule_reminders(work, card, prefs, now)
        within.after_commit(self._wake)

    def customer_erased(self, event: bookings.CustomerErased, within: Work) -> None:
        """Booking erased a customer: the keys of their number and address are destroyed
        (every queued or sent message and card of theirs reads ``[erased]``), their
        waiting messages are not sent and their cards dropped, with the position."""
        people = [p for p in (event.phone_pseudonym, event.email_pseudonym) if p]
        work = joined(self, within)
        for person in people:
            self.erase(event.tenant_id, person)
        forgotten = work.rows.forget_people(event.tenant_id, people, self.clock())
        log.info("customer erased", rows=forgotten)

    def booking_cancelled(self, event: bookings.BookingCancelled, within: Work) -> None:
        now = self.clock()
        work = joined(self, within)
        card = work.rows.load_card(event.tenant_id, event.booking_id)
        if card is None:
            log.warning("cancellation of a booking never confirmed here", booking=event.booking_id)
            return
        self._changed(work, card.cancelled(), "cancelled", "cancelled", now)
        within.after_commit(self._wake)

    def _changed(
        self, work: UnitOfWork, card: BookingCard, change: str, purpose: str, now: datetime
    ) -> None:
        """A booking moved or cancelled: its card kept, what waited for the old one
        skipped, and the notice of the change (with the .ics that replaces the old)."""
        work.rows.save_card(card)
        self._end_pending(work, card, change, now)
        notice = Notice(
            purpose, f"booking_{change}", now, calendar=self._ics(card), answers_change=True
        )
        self._enqueue(work, booking_notice(card, notice))

    def booking_over(self, event: bookings.BookingEvent, reason: str, within: Work) -> None:
        """Completed or no-show: nothing more to remind of."""
        work = joined(self, within)
        card = work.rows.load_card(event.tenant_id, event.booking_id)
        if card is not None:
            self._end_pending(work, card, reason, self.clock())

    def _end_pending(self, work: UnitOfWork, card: BookingCard, reason: str, now: datetime) -> None:
        """Skip the booking's waiting messages and its pending reminders."""
        work.rows.skip_scheduled_for_booking(card.tenant_id, card.booking_id, reason, now)
        reminders = self.reminders_of(work, card.tenant_id, card.booking_id)
        reminders.skip_pending(reason)


def card_of(event: bookings.BookingConfirmed) -> BookingCard:
    """The notifier's card of a just-confirmed booking."""
    contact = event.contact
    return BookingCard(
        tenant_id=event.tenant_id,
        booking_id=event.booking_id,
        reference=event.reference,
        customer_name=contact.name,
        phone=contact.phone,
        email=contact.email,
        language=contact.language,
        transactional_consent=event.consents.transactional,
        marketing_consent=event.consents.marketing,
        service_name=event.service_name,
        location_name=event.location_name,
        address=event.address,
        time_zone=event.time_zone,
        starts_at=event.slot.start,
        ends_at=event.slot.end,
        resource_ids=tuple(event.resource_ids),
        price=money_text(event.price.amount_minor, event.price.currency) if event.price else None,
        paid=money_text(event.paid.amount_minor, event.paid.currency) if event.paid else None,
        free_cancellation_until=event.free_cancellation_until,
        manage_url=event.manage_url,
        via_whatsapp=event.channel == Channel.WHATSAPP,
    )
