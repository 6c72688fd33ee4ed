"""The port every channel adapter implements, and how failures are classified.

A :class:`Transient` failure (outage, timeout, rate limit) is retried with backoff; a
:class:`Permanent` one (invalid number, rejected address, no approved template) is
reported at once and the message falls back to its next channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. "text/calendar; method=REQUEST"
    content: bytes


@dataclass(frozen=True)
class Outgoing:
    """One message on one channel, ready to hand to a provider."""

    channel: str
    to: str
    idempotency_key: str  # booking × kind × channel (or the request's key × channel)
    body: str
    subject: str | None = None
    html: str | None = None
    from_phone: str | None = None
    attachments: tuple[Attachment, ...] = ()
    whatsapp_template: str | None = None  # approved template to use outside the 24 h window
    template_variables: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Accepted:
    provider_reference: str


class DeliveryFailure(Exception):
    """A provider did not take the message."""

    permanent = False


class Transient(DeliveryFailure):
    """Worth retrying: the provider is down, slow or rate-limiting."""


class Permanent(DeliveryFailure):
    """Retrying on this channel will not help."""

    permanent = True


class Sender(Protocol):
    """Hands a message to a provider; raises :class:`DeliveryFailure` when it can't."""

    async def send(self, message: Outgoing) -> Accepted: ...
