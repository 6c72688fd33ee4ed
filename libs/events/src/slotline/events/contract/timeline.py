"""The customer timeline booking serves (``GET /v1/customers/{customer_id}/timeline``)
and the web reads. A line's ``kind`` is a :class:`LineKind`: a closed set, named in
booking's OpenAPI document, that both sides dispatch on. Every kind but one stands for a
public event class and is that class's ``EVENT_TYPE``; the arrival the front desk marks
has no public event and is its own kind."""

from __future__ import annotations

import functools
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from slotline.events.contract import booking, callbacks, calls, notifications, payments
from slotline.events.envelope import Message


class LineKind(StrEnum):
    """What a timeline line stands for."""

    CALL_RECEIVED = calls.CallReceived.EVENT_TYPE
    CALL_ANSWERED = calls.CallAnswered.EVENT_TYPE
    CALL_MISSED = calls.CallMissed.EVENT_TYPE
    VOICEMAIL_RECORDED = calls.VoicemailRecorded.EVENT_TYPE
    WHATSAPP_MESSAGE_RECEIVED = calls.WhatsAppMessageReceived.EVENT_TYPE
    LEAD_CAPTURED = calls.LeadCaptured.EVENT_TYPE
    CALLBACK_TASK_CREATED = callbacks.CallbackTaskCreated.EVENT_TYPE
    CALLBACK_ATTEMPT_RECORDED = callbacks.CallbackAttemptRecorded.EVENT_TYPE
    CALLBACK_TASK_CLOSED = callbacks.CallbackTaskClosed.EVENT_TYPE
    NOTIFICATION_REQUESTED = notifications.NotificationRequested.EVENT_TYPE
    TEXT_BACK_REQUESTED = notifications.TextBackRequested.EVENT_TYPE
    NOTIFICATION_SENT = notifications.NotificationSent.EVENT_TYPE
    NOTIFICATION_FAILED = notifications.NotificationFailed.EVENT_TYPE
    REMINDER_SCHEDULED = notifications.ReminderScheduled.EVENT_TYPE
    REMINDER_SKIPPED = notifications.ReminderSkipped.EVENT_TYPE
    CONSENT_CHANGED = notifications.ConsentChanged.EVENT_TYPE
    PAYMENT_AUTHORIZED = payments.PaymentAuthorized.EVENT_TYPE
    PAYMENT_AUTHORIZATION_FAILED = payments.PaymentAuthorizationFailed.EVENT_TYPE
    PAYMENT_CAPTURED = payments.PaymentCaptured.EVENT_TYPE
    PAYMENT_REFUNDED = payments.PaymentRefunded.EVENT_TYPE
    FEE_CHARGED = payments.FeeCharged.EVENT_TYPE
    BOOKING_CONFIRMED = booking.BookingConfirmed.EVENT_TYPE
    BOOKING_REJECTED = booking.BookingRejected.EVENT_TYPE
    BOOKING_EXPIRED = booking.BookingExpired.EVENT_TYPE
    BOOKING_CANCELLED = booking.BookingCancelled.EVENT_TYPE
    BOOKING_RESCHEDULED = booking.BookingRescheduled.EVENT_TYPE
    BOOKING_CHANGE_REFUSED = booking.BookingChangeRefused.EVENT_TYPE
    BOOKING_ARRIVED = "BookingArrived"
    """The front desk marked the customer arrived: the one line no public event stands for."""
    BOOKING_COMPLETED = booking.BookingCompleted.EVENT_TYPE
    BOOKING_NO_SHOW = booking.BookingNoShow.EVENT_TYPE

    @classmethod
    def of(cls, message: type[Message]) -> LineKind | None:
        """The kind of the lines a public event class makes; None: it makes none. An
        older schema version of an event subclasses its current class, and makes the
        same kind."""
        return _kind_of(message)


_KINDS: dict[type[Message], LineKind] = {
    calls.CallReceived: LineKind.CALL_RECEIVED,
    calls.CallAnswered: LineKind.CALL_ANSWERED,
    calls.CallMissed: LineKind.CALL_MISSED,
    calls.VoicemailRecorded: LineKind.VOICEMAIL_RECORDED,
    calls.WhatsAppMessageReceived: LineKind.WHATSAPP_MESSAGE_RECEIVED,
    calls.LeadCaptured: LineKind.LEAD_CAPTURED,
    callbacks.CallbackTaskCreated: LineKind.CALLBACK_TASK_CREATED,
    callbacks.CallbackAttemptRecorded: LineKind.CALLBACK_ATTEMPT_RECORDED,
    callbacks.CallbackTaskClosed: LineKind.CALLBACK_TASK_CLOSED,
    notifications.NotificationRequested: LineKind.NOTIFICATION_REQUESTED,
    notifications.TextBackRequested: LineKind.TEXT_BACK_REQUESTED,
    notifications.NotificationSent: LineKind.NOTIFICATION_SENT,
    notifications.NotificationFailed: LineKind.NOTIFICATION_FAILED,
    notifications.ReminderScheduled: LineKind.REMINDER_SCHEDULED,
    notifications.ReminderSkipped: LineKind.REMINDER_SKIPPED,
    notifications.ConsentChanged: LineKind.CONSENT_CHANGED,
    payments.PaymentAuthorized: LineKind.PAYMENT_AUTHORIZED,
    payments.PaymentAuthorizationFailed: LineKind.PAYMENT_AUTHORIZATION_FAILED,
    payments.PaymentCaptured: LineKind.PAYMENT_CAPTURED,
    payments.PaymentRefunded: LineKind.PAYMENT_REFUNDED,
    payments.FeeCharged: LineKind.FEE_CHARGED,
    booking.BookingConfirmed: LineKind.BOOKING_CONFIRMED,
    booking.BookingRejected: LineKind.BOOKING_REJECTED,
    booking.BookingExpired: LineKind.BOOKING_EXPIRED,
    booking.BookingCancelled: LineKind.BOOKING_CANCELLED,
    booking.BookingRescheduled: LineKind.BOOKING_RESCHEDULED,
    booking.BookingChangeRefused: LineKind.BOOKING_CHANGE_REFUSED,
    booking.BookingCompleted: LineKind.BOOKING_COMPLETED,
    booking.BookingNoShow: LineKind.BOOKING_NO_SHOW,
}
"""Each public event class a line stands for, to its kind (chosen by class, never by
comparing names)."""


@functools.cache
def _kind_of(message: type[Message]) -> LineKind | None:
    return next((_KINDS[c] for c in message.__mro__ if c in _KINDS), None)


class TimelineLine(BaseModel):
    """One line of a customer's timeline."""

    occurred_at: datetime
    kind: LineKind
    summary: str = Field(description="The line in English, for API clients.")
    facts: dict[str, Any] = Field(
        description="The line's variable parts by name (a service, a time, an amount as "
        "{amount_minor, currency}): what a page needs to say it in its own language."
    )
    call_id: str | None = None
    task_id: str | None = None
    booking_id: str | None = None


class CustomerTimeline(BaseModel):
    """A customer's record and their timeline, newest line first. Someone who only called
    has no record: their phone and the name a lead gave stand in (``caller``: true)."""

    customer_id: UUID
    name: str | None
    phone: str | None
    email: str | None
    language: str | None = None
    caller: bool
    timeline: list[TimelineLine]
