"""Kafka side of the notifier: what it publishes and what it consumes.

Publishes notification outcomes, reminder schedules, consent changes and webhook
endpoints' pauses on ``notifications.events.v1`` (through the outbox relay). Consumes
booking, payments, calls events and the notification requests through the idempotent
inbox, a batch at a time in one unit of work; a request that can never be served (no
address, a template that does not render) is dead-lettered with the reason. Events of the
webhook-fed topics (booking, payments) also become webhook deliveries, in the same unit
of work.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slotline.events.contract import booking as bookings
from slotline.events.contract import calls, payments
from slotline.events.contract import notifications as events
from slotline.events.contract.notifications import ConsentScope
from slotline.events.envelope import Message
from slotline.events.inbox import Rejected
from slotline.events.publishing import Publisher
from slotline.events.runtime import Subscription
from slotline.events.subscription import Handler
from slotline.events.topics import (
    BOOKING_EVENTS,
    CALLS_EVENTS,
    NOTIFICATIONS_EVENTS,
    PAYMENTS_EVENTS,
)
from slotline.events.unit_of_work import UnitOfWork
from slotline.events.wire_sealing import pseudonym
from slotline.notifier.application import Invalid, NotifierApplication
from slotline.notifier.application.core import WEBHOOK_TOPICS
from slotline.notifier.domain.consent import Consent
from slotline.notifier.domain.notification import Notification
from slotline.notifier.domain.reminders import BookingReminders
from slotline.notifier.domain.webhooks import WebhookEndpoint

# --- publishing ------------------------------------------------------------------------


def publisher() -> Publisher:
    """What the notifier publishes, by event class. Each message is made from the stored
    event alone (events carry what it needs); creations, starts, firings and consent
    registrations are internal."""
    table = Publisher(Notification, BookingReminders, Consent, WebhookEndpoint)

    @table.on(Notification.Sent)
    def sent(_: Notification, e: Notification.Sent) -> Message:
        return events.NotificationSent(
            **_notification(e),
            channel=e.channel,
            provider_reference=e.provider_reference,
            booking_id=getattr(e, "booking_id", None),  # absent before 2026-12
            template=getattr(e, "template", None),
        )

    @table.on(Notification.Delivered)
    def delivered(_: Notification, e: Notification.Delivered) -> Message:
        return events.NotificationDelivered(**_notification(e), channel=e.channel)

    @table.on(Notification.Failed)
    def failed(_: Notification, e: Notification.Failed) -> Message:
        return events.NotificationFailed(
            **_notification(e),
            channel=e.channel,
            permanent=e.permanent,
            reason=e.reason[:500],
            fallback=e.fallback,
            booking_id=getattr(e, "booking_id", None),
            template=getattr(e, "template", None),
        )

    @table.on(BookingReminders.Scheduled)
    def scheduled(_: BookingReminders, e: BookingReminders.Scheduled) -> Message:
        return events.ReminderScheduled(**_reminder(e), due_at=e.due_at)

    @table.on(BookingReminders.Skipped)
    def skipped(_: BookingReminders, e: BookingReminders.Skipped) -> Message:
        return events.ReminderSkipped(**_reminder(e), reason=e.reason)

    @table.on(Consent.Changed)
    def consent_changed(_: Consent, e: Consent.Changed) -> Message:
        is_phone = e.address.startswith("+")
        return events.ConsentChanged(
            tenant_id=e.tenant_id,
            aggregate_id=f"consent:{pseudonym(e.tenant_id, e.address)}",
            phone=e.address if is_phone else None,
            email=None if is_phone else e.address,
            scope=ConsentScope(e.scope),
            granted=e.granted,
            keyword=e.keyword,
        )

    @table.on(WebhookEndpoint.Paused)
    def paused(_: WebhookEndpoint, e: WebhookEndpoint.Paused) -> Message:
        return events.WebhookEndpointPaused(
            **_endpoint(e),
            reason=e.reason[:500],
            failed_attempts=e.failed_attempts,
            failing_since=e.failing_since,
        )

    @table.on(WebhookEndpoint.Resumed)
    def resumed(_: WebhookEndpoint, e: WebhookEndpoint.Resumed) -> Message:
        return events.WebhookEndpointResumed(**_endpoint(e))

    return table


def _endpoint(e: Any) -> dict[str, Any]:
    return {
        "tenant_id": e.tenant_id,
        "aggregate_id": f"webhook:{e.subscription_id}"[:128],
        "subscription_id": e.subscription_id,
    }


def _notification(e: Any) -> dict[str, Any]:
    return {
        "tenant_id": e.tenant_id,
        "aggregate_id": f"notification:{e.notification_id}"[:128],
        "notification_id": e.notification_id,
    }


def _reminder(e: Any) -> dict[str, Any]:
    return {
        "tenant_id": e.tenant_id,
        "aggregate_id": f"reminders:{e.booking_id}"[:128],
        "booking_id": e.booking_id,
        "kind": e.kind,
    }


# --- consuming ---------------------------------------------------------------------------


def subscriptions(application: NotifierApplication) -> Sequence[Subscription]:
    """Every consumed message is applied in its inbox batch's unit of work: a batch of
    confirmations is one transaction, not one (or two) each."""
    apply = handler(application)
    return tuple(
        Subscription(t, handlers=dict.fromkeys(HANDLED.get(t, (Message,)), apply))
        for t in CONSUMED_TOPICS
    )


def webhook_fed(topic: str) -> bool:
    """Whether ``topic``'s events are delivered to webhook subscriptions too."""
    return topic in WEBHOOK_TOPICS


# Only these types are acted on; the rest (the notifier's own outcomes on its topic
# above all) are skipped without a database lookup, so a text-back never queues
# behind a burst of the notifier's own events.
HANDLED: dict[str, frozenset[type[Message]]] = {
    NOTIFICATIONS_EVENTS: frozenset(
        {events.NotificationRequested, events.TextBackRequested, events.EscalationRequested}
    ),
    CALLS_EVENTS: frozenset({calls.WhatsAppMessageReceived}),
}


CONSUMED_TOPICS = (BOOKING_EVENTS, PAYMENTS_EVENTS, NOTIFICATIONS_EVENTS, CALLS_EVENTS)


def handler(app: NotifierApplication) -> Handler:
    """One consumed message's effect, in the batch's unit of work (which records its
    position); messages it has no use for only advance tracking."""

    def apply(message: Message, work: UnitOfWork) -> None:
        if webhook_fed(message.TOPIC):
            app.webhook_event(message, work)
        try:
            _apply(app, message, work)
        except Invalid as error:
            raise Rejected(str(error)) from error

    return apply


def _apply(app: NotifierApplication, message: Message, work: UnitOfWork) -> None:
    match message:
        case bookings.BookingConfirmed():
            app.booking_confirmed(message, work)
        case bookings.BookingRescheduled():
            app.booking_rescheduled(message, work)
        case bookings.BookingCancelled():
            app.booking_cancelled(message, work)
        case bookings.BookingCompleted():
            app.booking_over(message, "completed", work)
        case bookings.BookingNoShow():
            app.booking_over(message, "no_show", work)
        case bookings.CustomerErased():
            app.customer_erased(message, work)
        case payments.ReceiptIssued():
            app.receipt_issued(message, work)
        case payments.PaymentRefunded():
            app.payment_refunded(message, work)
        case events.NotificationRequested():
            app.notification_requested(message, work)
        case events.TextBackRequested():
            app.text_back_requested(message, work)
        case events.EscalationRequested():
            app.escalation_requested(message, work)
        case calls.WhatsAppMessageReceived():
            app.whatsapp_received(message, work)
        case _:
            return  # not for the notifier (its own outcomes included): nothing to record
