"""The notifier's use cases, one module per source of work:

- :mod:`.core` — what they share: store, tables, configuration, aggregates, queue,
  preferences (and :class:`Invalid`, a request the notifier can never act on);
- :mod:`.bookings` — ``booking.events.v1``: confirmations, reminders, moves, cancellations;
- :mod:`.payments` — ``payments.events.v1``: receipts and refund texts;
- :mod:`.requests` — requests on ``notifications.events.v1``: notifications, text-backs,
  escalations;
- :mod:`.consent` — inbound SMS and WhatsApp: consent keywords, the WhatsApp window.

Sending is not here: :mod:`slotline.notifier.dispatcher` sends what the queue holds.
"""

from __future__ import annotations

from slotline.notifier.application.bookings import BookingNotices, card_of
from slotline.notifier.application.consent import ConsentReplies
from slotline.notifier.application.core import Invalid, NotifierConfig
from slotline.notifier.application.payments import PaymentNotices
from slotline.notifier.application.requests import RequestedNotices

__all__ = ["Invalid", "NotifierApplication", "NotifierConfig", "card_of"]


class NotifierApplication(BookingNotices, PaymentNotices, RequestedNotices, ConsentReplies):
    """The notifier: every use case, on one event store, queue and set of read models."""

    name = "notifier"
