"""``notifications.events.v1`` — messages to customers and staff, and consent.

Requests (``NotificationRequested``, ``TextBackRequested``, ``EscalationRequested``) are
published by other services for the notifier — a text-back is a request to send, so
it lives here rather than on ``calls.events.v1``. Outcomes, reminders and consent
changes are published by the notifier and read by call-intake (opt-outs), booking
(the customer timeline) and analysts.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import AwareDatetime, ConfigDict, Field

from slotline.events.contract.common import E164, Id, Language, MessageChannel
from slotline.events.envelope import Message
from slotline.events.topics import NOTIFICATIONS_EVENTS


class NotificationEvent(Message):
    TOPIC: ClassVar[str] = NOTIFICATIONS_EVENTS
    ABSTRACT: ClassVar[bool] = True


class ConsentScope(StrEnum):
    """Transactional and marketing consent are kept apart; ``all`` is both (STOPALL)."""

    TRANSACTIONAL = "transactional"
    MARKETING = "marketing"
    ALL = "all"


_NOTIFICATION = "The message; one per recipient and purpose."
_CHANNEL = "The channel this outcome is about."


class NotificationRequested(NotificationEvent):
    """Send a templated message; the idempotency key makes a resend a no-op."""

    PERSONAL: ClassVar[tuple[str, ...]] = ("to_phone", "to_email", "variables")
    SCHEMA_VERSION: ClassVar[int] = 2

    KEY: ClassVar[str] = (
        "The requester's choice: booking asks with the booking the message is about."
    )

    notification_id: Id = Field(description=_NOTIFICATION)
    idempotency_key: str = Field(
        min_length=1, max_length=200, description="Same key, same message: sent once."
    )
    template: str = Field(min_length=1, max_length=100, description="e.g. booking_confirmed.")
    language: Language = Field(default="en", description="Template language, e.g. en, el.")
    channels: list[MessageChannel] = Field(min_length=1, description="In order of preference.")
    to_phone: E164 | None = Field(default=None, description="For sms and whatsapp.")
    to_email: str | None = Field(default=None, description="E-mail address.")
    variables: dict[str, str] = Field(default_factory=dict, description="Template variables.")
    urgent: bool = Field(default=False, description="May be sent during quiet hours.")


class TextBackRequested(NotificationEvent):
    """Call-intake asks for an immediate text to a caller whose call was missed."""

    PERSONAL: ClassVar[tuple[str, ...]] = ("to_phone", "booking_url")
    SCHEMA_VERSION: ClassVar[int] = 2

    KEY: ClassVar[str] = "{call_id}"

    call_id: Id = Field(description="The missed call.")
    to_phone: E164 = Field(description="The caller.")
    from_phone: E164 = Field(description="The number the caller dialled.")
    channel: MessageChannel = Field(default=MessageChannel.SMS, description="sms or whatsapp.")
    business_name: str = Field(max_length=200, description="Named in the text.")
    booking_url: str = Field(max_length=2048, description="Booking link, prefilled.")
    after_hours: bool = Field(default=False, description="Use the after-hours wording.")
    language: Language | None = Field(default=None, description="Text language if known.")


class EscalationRequested(NotificationEvent):
    """A callback task is about to breach (or breached) its SLA: tell a manager."""

    PERSONAL: ClassVar[tuple[str, ...]] = ("to_phone", "to_email", "caller_phone")
    SCHEMA_VERSION: ClassVar[int] = 2

    KEY: ClassVar[str] = "{task_id}"

    task_id: Id = Field(description="The callback task.")
    to_staff_id: Id = Field(description="The manager to tell.")
    breached: bool = Field(description="Already past the deadline.")
    deadline: AwareDatetime = Field(description="The task's SLA deadline.")
    to_phone: E164 | None = Field(default=None, description="The manager's phone, if known.")
    to_email: str | None = Field(default=None, description="The manager's e-mail, if known.")
    caller_phone: E164 | None = Field(default=None, description="Who is waiting for a call.")


class NotificationSent(NotificationEvent):
    """A provider accepted a message."""

    KEY: ClassVar[str] = "notification:{notification_id}"

    notification_id: Id = Field(description=_NOTIFICATION)
    channel: MessageChannel = Field(description=_CHANNEL)
    provider_reference: str | None = Field(
        default=None, max_length=200, description="The provider's message id."
    )
    booking_id: Id | None = Field(
        default=None, description="The booking the message is about (confirmation, reminder …)."
    )
    template: str | None = Field(
        default=None, max_length=64, description="What it said: booking_confirmed, text_back …"
    )


class NotificationDelivered(NotificationEvent):
    """The provider reported delivery."""

    KEY: ClassVar[str] = "notification:{notification_id}"

    notification_id: Id = Field(description=_NOTIFICATION)
    channel: MessageChannel = Field(description=_CHANNEL)


class NotificationFailed(NotificationEvent):
    """A message could not be sent on a channel; ``fallback`` names the next one, if any."""

    KEY: ClassVar[str] = "notification:{notification_id}"

    notification_id: Id = Field(description=_NOTIFICATION)
    channel: MessageChannel = Field(description=_CHANNEL)
    permanent: bool = Field(description="Retrying on this channel will not help.")
    reason: str = Field(max_length=500, description="The provider's or our explanation.")
    fallback: MessageChannel | None = Field(default=None, description="Tried next, if any.")
    booking_id: Id | None = Field(
        default=None, description="The booking the message is about (confirmation, reminder …)."
    )
    template: str | None = Field(
        default=None, max_length=64, description="What it said: booking_confirmed, text_back …"
    )


class ReminderScheduled(NotificationEvent):
    """A reminder will be sent at ``due_at`` (stored state, not a timer)."""

    KEY: ClassVar[str] = "reminders:{booking_id}"

    booking_id: Id = Field(description="The booking reminded of.")
    kind: str = Field(max_length=32, description="e.g. 24h, 1h.")
    due_at: AwareDatetime = Field(description="When to send it, UTC.")


class ReminderSkipped(NotificationEvent):
    """A reminder was not sent: the booking moved or was cancelled, or it came too late."""

    KEY: ClassVar[str] = "reminders:{booking_id}"

    booking_id: Id = Field(description="The booking reminded of.")
    kind: str = Field(max_length=32, description="e.g. 24h, 1h.")
    reason: str = Field(max_length=200, description="cancelled, rescheduled, too_late, ….")


class ConsentChanged(NotificationEvent):
    """A number or address opted out (STOP …) or back in (START …)."""

    PERSONAL: ClassVar[tuple[str, ...]] = ("phone", "email")
    SCHEMA_VERSION: ClassVar[int] = 2

    KEY: ClassVar[str] = (
        "consent:<pseudonym>: the number or address keyed with the tenant's key (the same "
        "one always gives the same key; it cannot be worked out without that key)."
    )

    phone: E164 | None = Field(default=None, description="The number whose consent changed.")
    email: str | None = Field(default=None, description="E-mail address.")
    scope: ConsentScope = Field(description="Which consent changed.")
    granted: bool = Field(description="True = opted in, false = opted out.")
    keyword: str | None = Field(
        default=None, max_length=20, description="The reply that changed it, e.g. STOP."
    )


class WebhookEndpointPaused(NotificationEvent):
    """A tenant's webhook subscription kept failing and is paused: its deliveries wait
    (none is dropped) until an owner or manager resumes it. Never paused silently: the
    tenant's owners are told as well."""

    KEY: ClassVar[str] = "webhook:{subscription_id}"

    subscription_id: Id = Field(description="The webhook subscription paused.")
    reason: str = Field(max_length=500, description="Why: the last failures, in short.")
    failed_attempts: int = Field(ge=0, description="Attempts failed in a row before the pause.")
    failing_since: AwareDatetime = Field(description="When the failures in a row began, UTC.")


class WebhookEndpointResumed(NotificationEvent):
    """A paused webhook subscription was resumed: its waiting deliveries are sent now."""

    KEY: ClassVar[str] = "webhook:{subscription_id}"

    subscription_id: Id = Field(description="The webhook subscription resumed.")


class NotificationRequestedV1(NotificationRequested):
    """Send a templated message; the idempotency key makes a resend a no-op.

    Version 1, read still: its personal fields travel in clear (version 2 seals them).
    """

    model_config = ConfigDict(title=NotificationRequested.EVENT_TYPE)
    EVENT_TYPE: ClassVar[str] = NotificationRequested.EVENT_TYPE
    SCHEMA_VERSION: ClassVar[int] = 1
    PERSONAL: ClassVar[tuple[str, ...]] = ()


class TextBackRequestedV1(TextBackRequested):
    """Call-intake asks for an immediate text to a caller whose call was missed.

    Version 1, read still: its personal fields travel in clear (version 2 seals them).
    """

    model_config = ConfigDict(title=TextBackRequested.EVENT_TYPE)
    EVENT_TYPE: ClassVar[str] = TextBackRequested.EVENT_TYPE
    SCHEMA_VERSION: ClassVar[int] = 1
    PERSONAL: ClassVar[tuple[str, ...]] = ()


class EscalationRequestedV1(EscalationRequested):
    """A callback task is about to breach (or breached) its SLA: tell a manager.

    Version 1, read still: its personal fields travel in clear (version 2 seals them).
    """

    model_config = ConfigDict(title=EscalationRequested.EVENT_TYPE)
    EVENT_TYPE: ClassVar[str] = EscalationRequested.EVENT_TYPE
    SCHEMA_VERSION: ClassVar[int] = 1
    PERSONAL: ClassVar[tuple[str, ...]] = ()


class ConsentChangedV1(ConsentChanged):
    """A number or address opted out (STOP …) or back in (START …).

    Version 1, read still: its personal fields travel in clear (version 2 seals them).
    """

    model_config = ConfigDict(title=ConsentChanged.EVENT_TYPE)
    EVENT_TYPE: ClassVar[str] = ConsentChanged.EVENT_TYPE
    SCHEMA_VERSION: ClassVar[int] = 1
    PERSONAL: ClassVar[tuple[str, ...]] = ()
