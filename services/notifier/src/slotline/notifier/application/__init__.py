"""The notifier's use cases, one module per source of work:

- :mod:`.core` — what they share: store, tables, configuration, aggregates, queue,
  preferences (and :class:`Invalid`, a request the notifier can never act on);
- :mod:`.bookings` — ``booking.events.v1``: confirmations, reminders, moves, cancellations;
- :mod:`.payments` — ``payments.events.v1``: receipts and refund texts;
- :mod:`.requests` — requests on ``notifications.events.v1``: notifications, text-backs,
  escalations;
- :mod:`.consent` — inbound SMS and WhatsApp: consent keywords, the WhatsApp window;
- :mod:`.webhooks` — outbound webhooks: subscriptions, the fan-out of public events into
  deliveries, attempts, pauses, the delivery log.

Sending is not here: :mod:`slotline.notifier.dispatcher` sends what the queue holds,
:mod:`slotline.notifier.webhooks.dispatcher` the webhook deliveries.
"""

from __future__ import annotations

from slotline.notifier.application.bookings import BookingNotices, card_of
from slotline.notifier.application.consent import ConsentReplies
from slotline.notifier.application.core import Invalid, NotifierConfig, WebhookConfig
from slotline.notifier.application.payments import PaymentNotices
from slotline.notifier.application.requests import RequestedNotices
from slotline.notifier.application.webhooks import (
    WebhookConflict,
    WebhookNotFound,
    WebhookSubscriptions,
)

__all__ = [
    "Invalid",
    "NotifierApplication",
    "NotifierConfig",
    "WebhookConfig",
    "WebhookConflict",
    "WebhookNotFound",
    "card_of",
]


class NotifierApplication(
    BookingNotices, PaymentNotices, RequestedNotices, ConsentReplies, WebhookSubscriptions
):
    """The notifier: every use case, on one event store, queue and set of read models."""

    name = "notifier"
