"""``notifications.events.v1`` — messages to customers and staff, and consent.

Requests (``NotificationRequested``, ``TextBackRequested``, ``EscalationRequested``) are
published by other services for the notifier; outcomes, reminders and consent changes
are published by the notifier and read by call-intake (opt-outs) and analysts.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import AwareDatetime, Field

from slotline.events.contract.common import E164, Id, MessageChannel
from slotline.events.envelope import Message
from slotline.events.topics import NOTIFICATIONS_EVENTS


class NotificationEvent(Message):
    TOPIC: ClassVar[str] = NOTIFICATIONS_EVENTS
    ABSTRACT: ClassVar[bool] = True


class ConsentScope(StrEnum):
    TRANSACTIONAL = "transactional"
    MARKETING = "marketing"
    ALL = "all"


class NotificationRequested(NotificationEvent):
    """Send a templated message; the idempotency key makes a resend a no-op."""

    notification_id: Id
    idempotency_key: str = Field(min_length=1, max_length=200)
    template: str = Field(min_length=1, max_length=100)
    language: str = Field(default="en", pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    channels: list[MessageChannel] = Field(min_length=1, description="In order of preference.")
    to_phone: E164 | None = None
    to_email: str | None = None
    variables: dict[str, str] = Field(default_factory=dict)
    urgent: bool = False


class TextBackRequested(NotificationEvent):
    """Call-intake asks for an immediate text to a caller whose call was missed."""

    call_id: Id
    to_phone: E164
    from_phone: E164 = Field(description="The number the caller dialled.")
    channel: MessageChannel = MessageChannel.SMS
    business_name: str = Field(max_length=200)
    booking_url: str = Field(max_length=2048)
    after_hours: bool = False


class EscalationRequested(NotificationEvent):
    """A callback task is about to breach (or breached) its SLA: tell a manager."""

    task_id: Id
    to_staff_id: Id
    breached: bool
    deadline: AwareDatetime


class NotificationSent(NotificationEvent):
    """A provider accepted a message."""

    notification_id: Id
    channel: MessageChannel
    provider_reference: str | None = Field(default=None, max_length=200)


class NotificationDelivered(NotificationEvent):
    """The provider reported delivery."""

    notification_id: Id
    channel: MessageChannel


class NotificationFailed(NotificationEvent):
    """A message could not be sent on a channel; ``fallback`` names the next one, if any."""

    notification_id: Id
    channel: MessageChannel
    permanent: bool
    reason: str = Field(max_length=500)
    fallback: MessageChannel | None = None


class ReminderScheduled(NotificationEvent):
    """A reminder will be sent at ``due_at`` (stored state, not a timer)."""

    booking_id: Id
    kind: str = Field(max_length=32, description="e.g. 24h, 1h.")
    due_at: AwareDatetime


class ReminderSkipped(NotificationEvent):
    """A reminder was not sent: the booking moved or was cancelled, or it came too late."""

    booking_id: Id
    kind: str = Field(max_length=32)
    reason: str = Field(max_length=200)


class ConsentChanged(NotificationEvent):
    """A number or address opted out (STOP …) or back in (START …)."""

    phone: E164 | None = None
    email: str | None = None
    scope: ConsentScope
    granted: bool
    keyword: str | None = Field(default=None, max_length=20)
