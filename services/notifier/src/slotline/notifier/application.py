"""The notifier's use cases: what each consumed event or webhook changes and queues.

Every use case is one transaction (:func:`unit_of_work`): the booking card, the queue
rows, the aggregates' new events (the outbox) and the inbox tracking record commit
together. Nothing is sent here: the dispatcher sends what the queue holds, so a
redelivered event changes nothing and a crash loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Tracking

from slotline.events.clock import utc_now
from slotline.events.contract import booking as bookings
from slotline.events.contract import calls, payments
from slotline.events.contract import notifications as requests
from slotline.events.contract.common import Channel
from slotline.events.logs import get_logger
from slotline.events.store import ServiceApplication
from slotline.notifier.calendar_files import booking_ics
from slotline.notifier.domain.booking_card import BookingCard, money_text
from slotline.notifier.domain.consent import Consent, Intent, Keyword, read_keyword
from slotline.notifier.domain.notices import (
    booking_channels,
    booking_notice,
    language_for,
    reminder_notices,
)
from slotline.notifier.domain.notification import Notification
from slotline.notifier.domain.outgoing import EMAIL, SMS, WHATSAPP, QueuedMessage
from slotline.notifier.domain.preferences import TenantPreferences
from slotline.notifier.domain.reminders import BookingReminders, plan
from slotline.notifier.persistence import queue, records
from slotline.notifier.persistence.tables import create_tables
from slotline.notifier.persistence.unit_of_work import UnitOfWork, reading, unit_of_work
from slotline.notifier.rendering import TemplateProblem, Templates

log = get_logger(__name__)

A = TypeVar("A", bound=Aggregate)


class Invalid(ValueError):
    """A request the notifier can never act on (no address, bad template, …)."""


@dataclass(frozen=True)
class NotifierConfig:
    defaults: TenantPreferences
    default_zone: str = "UTC"
    organizer_email: str | None = None
    whatsapp_templates: dict[str, str] | None = None
    template_dir: Path | None = None


class NotifierApplication(ServiceApplication):
    """Owns the notifier's event store, queue and read models."""

    name = "notifier"
    # No aggregate cache: rows and events are written together outside ``save``.
    env: ClassVar[dict[str, str]] = {}

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        config: NotifierConfig,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(env=env)
        self.config = config
        self.clock = clock
        self.templates = Templates(config.template_dir)
        self.queued_listeners: list[Callable[[], None]] = []
        with unit_of_work(self) as work:
            create_tables(work.cursor, work.schema)

    # --- shared helpers ----------------------------------------------------------------

    def _wake(self) -> None:
        """Tell the dispatcher that something may be due now."""
        for listener in self.queued_listeners:
            listener()

    def _load(self, cls: type[A], aggregate_id: UUID, work: UnitOfWork, **create: Any) -> A:
        """The aggregate as the work sees it (one instance per unit of work), or a new
        one; either way saved with the work."""
        aggregate = work.get(cls, aggregate_id)
        if aggregate is None:
            aggregate = cls(**create)
        work.save(aggregate)
        return aggregate

    def reminders_of(self, work: UnitOfWork, tenant_id: str, booking_id: str) -> BookingReminders:
        return self._load(
            BookingReminders,
            BookingReminders.create_id(tenant_id, booking_id),
            work,
            tenant_id=tenant_id,
            booking_id=booking_id,
        )

    def consent_of(self, work: UnitOfWork, tenant_id: str, address: str) -> Consent:
        return self._load(
            Consent,
            Consent.create_id(tenant_id, address),
            work,
            tenant_id=tenant_id,
            address=address,
        )

    def notification_of(
        self, work: UnitOfWork, tenant_id: str, notification_id: str
    ) -> Notification:
        return self._load(
            Notification,
            Notification.create_id(tenant_id, notification_id),
            work,
            tenant_id=tenant_id,
            notification_id=notification_id,
        )

    def preferences(
        self, work: UnitOfWork, tenant_ids: Iterable[str]
    ) -> dict[str, TenantPreferences]:
        tenants = sorted(set(tenant_ids))
        stored = records.preferences(work, tenants)
        return {t: self.config.defaults.overridden(stored.get(t, {})) for t in tenants}

    def _enqueue(self, work: UnitOfWork, messages: Iterable[QueuedMessage]) -> int:
        return sum(queue.enqueue(work, m) for m in messages)

    def _ics(self, card: BookingCard) -> str:
        return booking_ics(card, self.clock(), self.config.organizer_email)

    # --- booking.events.v1 ---------------------------------------------------------------

    def booking_confirmed(self, event: bookings.BookingConfirmed, tracking: Tracking) -> None:
        now = self.clock()
        card = card_of(event)
        with unit_of_work(self, tracking) as work:
            prefs = self.preferences(work, [card.tenant_id])[card.tenant_id]
            records.save_card(work, card)
            self._enqueue(
                work,
                booking_notice(
                    card, "confirmed", "booking_confirmed", now, calendar=self._ics(card)
                ),
            )
            self._schedule_reminders(work, card, prefs, now)
        self._wake()

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

    def booking_rescheduled(self, event: bookings.BookingRescheduled, tracking: Tracking) -> None:
        now = self.clock()
        with unit_of_work(self, tracking) as work:
            card = records.load_card(work, event.tenant_id, event.booking_id)
            if card is None:
                log.warning(
                    "reschedule of a booking never confirmed here", booking=event.booking_id
                )
                return
            card = card.moved(event.slot.start, event.slot.end, tuple(event.resource_ids))
            records.save_card(work, card)
            self._end_pending(work, card, "rescheduled", now)
            self._enqueue(
                work,
                booking_notice(
                    card,
                    f"rescheduled:{card.sequence}",
                    "booking_rescheduled",
                    now,
                    calendar=self._ics(card),
                ),
            )
            prefs = self.preferences(work, [card.tenant_id])[card.tenant_id]
            self._schedule_reminders(work, card, prefs, now)
        self._wake()

    def booking_cancelled(self, event: bookings.BookingCancelled, tracking: Tracking) -> None:
        now = self.clock()
        with unit_of_work(self, tracking) as work:
            card = records.load_card(work, event.tenant_id, event.booking_id)
            if card is None:
                log.warning(
                    "cancellation of a booking never confirmed here", booking=event.booking_id
                )
                return
            card = card.cancelled()
            records.save_card(work, card)
            self._end_pending(work, card, "cancelled", now)
            self._enqueue(
                work,
                booking_notice(
                    card, "cancelled", "booking_cancelled", now, calendar=self._ics(card)
                ),
            )
        self._wake()

    def booking_over(self, event: bookings.BookingEvent, reason: str, tracking: Tracking) -> None:
        """Completed or no-show: nothing more to remind of."""
        with unit_of_work(self, tracking) as work:
            card = records.load_card(work, event.tenant_id, event.booking_id)
            if card is not None:
                self._end_pending(work, card, reason, self.clock())

    def _end_pending(self, work: UnitOfWork, card: BookingCard, reason: str, now: datetime) -> None:
        """Skip the booking's waiting messages and its pending reminders."""
        queue.skip_scheduled_for_booking(work, card.tenant_id, card.booking_id, reason, now)
        reminders = self.reminders_of(work, card.tenant_id, card.booking_id)
        reminders.skip_pending(reason)

    # --- payments.events.v1 --------------------------------------------------------------

    def receipt_issued(self, event: payments.ReceiptIssued, tracking: Tracking) -> None:
        now = self.clock()
        with unit_of_work(self, tracking) as work:
            card = records.load_card(work, event.tenant_id, event.booking_id)
            to_email = event.recipient_email or (card.email if card else None)
            if to_email is None:
                log.info("receipt without an e-mail address", receipt=event.receipt_id)
                return
            notification_id = f"receipt:{event.receipt_id}"
            message = QueuedMessage(
                tenant_id=event.tenant_id,
                key=notification_id,
                notification_id=notification_id,
                template="receipt_issued",
                language=card.language if card else self.config.defaults.language,
                channels=(EMAIL,),
                due_at=now,
                to_email=to_email,
                booking_id=event.booking_id,
                variables={
                    "receipt_id": event.receipt_id,
                    "receipt_url": event.url,
                    "amount": money_text(event.amount.amount_minor, event.amount.currency),
                    "refund": "yes" if event.refund else "",
                },
            )
            self._enqueue(work, [message])
        self._wake()

    def payment_refunded(self, event: payments.PaymentRefunded, tracking: Tracking) -> None:
        """A short text about the refund; the refund receipt itself goes by e-mail."""
        now = self.clock()
        with unit_of_work(self, tracking) as work:
            card = records.load_card(work, event.tenant_id, event.booking_id)
            if card is None:
                return
            purpose = f"refund:{event.refund_id or event.payment_id}"
            amount = money_text(event.amount.amount_minor, event.amount.currency)
            notices = booking_notice(
                card,
                purpose,
                "payment_refunded",
                now,
                variables={"amount": amount, "reason": event.reason},
                text_only=True,
            )
            self._enqueue(work, notices)
        self._wake()

    # --- notifications.events.v1 requests ------------------------------------------------

    def notification_requested(
        self, event: requests.NotificationRequested, tracking: Tracking
    ) -> None:
        channels = tuple(dict.fromkeys(c.value for c in event.channels))
        message = QueuedMessage(
            tenant_id=event.tenant_id,
            key=f"request:{event.idempotency_key}",
            notification_id=event.notification_id,
            template=event.template,
            language=event.language,
            channels=channels,
            due_at=self.clock(),
            variables=dict(event.variables),
            to_phone=event.to_phone,
            to_email=event.to_email,
            urgent=event.urgent,
            zone=self.config.default_zone,
        )
        if not any(message.address(c) for c in channels):
            raise Invalid(f"none of the channels {list(channels)} has an address to send to")
        self.check_renders(message)
        with unit_of_work(self, tracking) as work:
            self._enqueue(work, [message])
        self._wake()

    def check_renders(self, message: QueuedMessage) -> None:
        """Render every part now: a bad template is refused before anything is queued."""
        try:
            self.templates.render(
                message.tenant_id,
                message.template,
                message.language,
                message.variables,
                message.channels,
            )
        except TemplateProblem as problem:
            raise Invalid(str(problem)) from problem

    def text_back_requested(self, event: requests.TextBackRequested, tracking: Tracking) -> None:
        """The missed-call text: now (it answers a call just made), from the number dialled."""
        channel = event.channel.value
        with unit_of_work(self, tracking) as work:
            prefs = self.preferences(work, [event.tenant_id])[event.tenant_id]
            notification_id = f"textback:{event.call_id}"
            message = QueuedMessage(
                tenant_id=event.tenant_id,
                key=notification_id,
                notification_id=notification_id,
                template="text_back",
                language=language_for(event.to_phone, event.language, prefs.language),
                channels=(channel, SMS) if channel == WHATSAPP else (channel,),
                due_at=self.clock(),
                to_phone=event.to_phone,
                from_phone=event.from_phone,
                urgent=True,
                variables={
                    "business_name": event.business_name,
                    "booking_url": event.booking_url,
                    "after_hours": "yes" if event.after_hours else "",
                },
            )
            self._enqueue(work, [message])
        self._wake()

    def escalation_requested(self, event: requests.EscalationRequested, tracking: Tracking) -> None:
        channels = tuple(
            c for c, address in ((SMS, event.to_phone), (EMAIL, event.to_email)) if address
        )
        if not channels:
            raise Invalid(f"no phone or e-mail for staff {event.to_staff_id}: nobody to tell")
        notification_id = f"escalation:{event.task_id}:{'breached' if event.breached else 'due'}"
        with unit_of_work(self, tracking) as work:
            prefs = self.preferences(work, [event.tenant_id])[event.tenant_id]
            zone = self.config.default_zone
            message = QueuedMessage(
                tenant_id=event.tenant_id,
                key=notification_id,
                notification_id=notification_id,
                template="escalation",
                language=prefs.language,
                channels=channels,
                due_at=self.clock(),
                to_phone=event.to_phone,
                to_email=event.to_email,
                urgent=True,
                zone=zone,
                variables={
                    "task_id": event.task_id,
                    "deadline": event.deadline.isoformat(timespec="minutes"),
                    "breached": "yes" if event.breached else "",
                    "caller_phone": event.caller_phone or "",
                    "staff_id": event.to_staff_id,
                },
            )
            self._enqueue(work, [message])
        self._wake()

    # --- consent and the WhatsApp window ---------------------------------------------------

    def whatsapp_received(self, event: calls.WhatsAppMessageReceived, tracking: Tracking) -> None:
        """Opens the 24-hour window; a keyword changes consent like an SMS reply."""
        with unit_of_work(self, tracking) as work:
            records.open_window(work, event.tenant_id, event.from_phone, event.occurred_at)
            keyword = read_keyword(event.text)
            if keyword is not None:
                self._consent_reply(
                    work,
                    event.tenant_id,
                    event.from_phone,
                    keyword,
                    channel=WHATSAPP,
                    reply_from=event.to_phone,
                    reference=event.message_id,
                )
        self._wake()

    def text_received(
        self, tenant_id: str, from_phone: str, to_phone: str, body: str, message_sid: str
    ) -> Keyword | None:
        """An inbound SMS (provider webhook); retried webhooks change nothing."""
        keyword = read_keyword(body)
        with unit_of_work(self) as work:
            if not records.first_sight_of_inbound(work, tenant_id, message_sid):
                return keyword
            if keyword is not None:
                self._consent_reply(
                    work,
                    tenant_id,
                    from_phone,
                    keyword,
                    channel=SMS,
                    reply_from=to_phone,
                    reference=message_sid,
                )
        self._wake()
        return keyword

    def _consent_reply(
        self,
        work: UnitOfWork,
        tenant_id: str,
        phone: str,
        keyword: Keyword,
        *,
        channel: str,
        reply_from: str | None,
        reference: str,
    ) -> None:
        if keyword.intent is Intent.HELP:
            template = "consent_help"
        else:
            consent = self.consent_of(work, tenant_id, phone)
            if not consent.reply(keyword):
                return  # already so: no second confirmation
            template = (
                "consent_opted_out" if keyword.intent is Intent.OPT_OUT else "consent_opted_in"
            )
        prefs = self.preferences(work, [tenant_id])[tenant_id]
        notification_id = f"consent-reply:{channel}:{reference}"
        reply = QueuedMessage(
            tenant_id=tenant_id,
            key=notification_id,
            notification_id=notification_id,
            template=template,
            language=language_for(phone, None, prefs.language),
            channels=(channel,),
            due_at=self.clock(),
            to_phone=phone,
            from_phone=reply_from,
            urgent=True,
            consent_exempt=True,  # the one confirmation (or help text) an opted-out number gets
            variables={"business_name": prefs.business_name},
        )
        self._enqueue(work, [reply])

    def save_preferences(self, tenant_id: str, values: dict[str, Any]) -> TenantPreferences:
        with unit_of_work(self) as work:
            records.save_preferences(work, tenant_id, values)
            return self.preferences(work, [tenant_id])[tenant_id]

    def preferences_of(self, tenant_id: str) -> TenantPreferences:
        with reading(self) as work:
            return self.preferences(work, [tenant_id])[tenant_id]

    def staff_bookings(self, tenant_id: str, resource_id: str) -> list[BookingCard]:
        with reading(self) as work:
            return records.cards_of_resource(work, tenant_id, resource_id)


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


def with_key(message: QueuedMessage, key: str, **changes: Any) -> QueuedMessage:
    return replace(message, key=key, **changes)
