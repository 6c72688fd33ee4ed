"""The customer timeline booking serves (``GET /v1/customers/{customer_id}/timeline``)
and the web reads. A line's ``kind`` is a :class:`LineKind`: a closed set, named in
booking's OpenAPI document, that both sides dispatch on. Every kind but one stands for a
public event class and is that class's ``EVENT_TYPE``; the arrival the front desk marks
has no public event and is its own kind."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from slotline.events.contract import booking, callbacks, calls, notifications, payments
from slotline.events.contract.registry import MESSAGES
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
        """The kind of the lines a public event class makes; None: it makes none."""
        return _KIND_OF.get(message)


_KIND_OF: dict[type[Message], LineKind] = {
    message: kind
    for message in MESSAGES.values()
    for kind in LineKind
    if kind.value == message.EVENT_TYPE
}
"""Each public event class (every version of it) to the kind of line it makes."""


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
