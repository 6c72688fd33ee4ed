"""A message waiting to be sent, and what to do with it when it is due.

The decision is pure: given the time, the sending window and what the recipient
allows, a due message is sent on its consented channels (first one first, the rest
as fallbacks), deferred to the window's opening, or skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from slotline.notifier.domain.sending_window import SendingWindow

EMAIL, SMS, WHATSAPP = "email", "sms", "whatsapp"
TEXT_CHANNELS = frozenset({SMS, WHATSAPP})

PROMPT, BULK = "prompt", "bulk"
"""Dispatch lanes. Reminders are planned ahead and fall due in bursts (every booking of a
busy hour at once): they go by the bulk lane. Everything else answers something that has
just happened (a missed call, a booking, a STOP) and goes by the prompt lane, which has
its own claims and sending slots, so it never waits behind a burst of reminders."""


@dataclass(frozen=True)
class QueuedMessage:
    """One message for one recipient and purpose, as stored in the queue."""

    tenant_id: str
    key: str  # idempotency key: the same key is queued and sent once
    notification_id: str
    template: str
    language: str
    channels: tuple[str, ...]  # in order: the first is tried first, the rest fall back
    due_at: datetime
    variables: dict[str, str] = field(default_factory=dict)
    to_phone: str | None = None
    to_email: str | None = None
    from_phone: str | None = None
    urgent: bool = False
    scope: str = "transactional"
    zone: str | None = None  # the booking's zone, for quiet hours when the number has none
    useful_until: datetime | None = None
    booking_id: str | None = None
    reminder_kind: str | None = None
    calendar: str | None = None  # .ics text attached to e-mails
    consent_exempt: bool = False  # the one confirmation reply to STOP

    def address(self, channel: str) -> str | None:
        return self.to_email if channel == EMAIL else self.to_phone

    @property
    def lane(self) -> str:
        return BULK if self.reminder_kind else PROMPT


@dataclass(frozen=True)
class Send:
    channels: tuple[str, ...]
    refused: tuple[tuple[str, str], ...] = ()  # (channel, why) dropped before sending


@dataclass(frozen=True)
class Defer:
    until: datetime


@dataclass(frozen=True)
class Skip:
    reason: str
    refused: tuple[tuple[str, str], ...] = ()


Decision = Send | Defer | Skip

Allows = Callable[[str, str], bool]
"""Whether the recipient's address on a channel allows a message of a scope."""


def decide(
    message: QueuedMessage, now: datetime, window: SendingWindow, zone: ZoneInfo, allows: Allows
) -> Decision:
    """What to do with a due message now."""
    if message.useful_until is not None and now >= message.useful_until:
        return Skip("too_late")
    channels: list[str] = []
    refused: list[tuple[str, str]] = []
    for channel in message.channels:
        address = message.address(channel)
        if not address:
            refused.append(
                (channel, f"no {'e-mail address' if channel == EMAIL else 'phone number'}")
            )
        elif not message.consent_exempt and not allows(channel, message.scope):
            refused.append((channel, "recipient opted out"))
        else:
            channels.append(channel)
    if not channels:
        return Skip("no_consented_channel", tuple(refused))
    if not message.urgent and channels[0] in TEXT_CHANNELS:
        allowed_at = window.next_allowed(now, zone)
        if allowed_at > now:
            if message.useful_until is not None and allowed_at >= message.useful_until:
                return Skip("too_late")
            return Defer(allowed_at)
    return Send(tuple(channels), tuple(refused))


def without_texts(decision: Send, reason: str) -> Send | Skip:
    """``decision`` with its text channels refused for ``reason`` (the SMS-pumping
    guard): the e-mail goes on alone, or the message is skipped."""
    kept = tuple(c for c in decision.channels if c not in TEXT_CHANNELS)
    refused = decision.refused + tuple((c, reason) for c in decision.channels if c in TEXT_CHANNELS)
    return Send(kept, refused) if kept else Skip("text_limit", refused)
