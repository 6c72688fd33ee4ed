"""The local provider for ``make run``: keeps what was "sent" for ``GET /outbox``.

Texts (SMS, WhatsApp) are taken by :class:`LocalProvider`; e-mail goes over real SMTP
to a local aiosmtpd sink (:class:`LocalMailSink`) that files each mail in the same
outbox, so a person can see exactly what customers would have received.
"""

from __future__ import annotations

import itertools
from collections import deque
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from slotline.notifier.channels.port import Accepted, Outgoing, Permanent
from slotline.notifier.channels.twilio import valid_number


class Outbox:
    """The last ``size`` messages sent through local channels, newest last."""

    def __init__(self, size: int = 1000) -> None:
        self.entries: deque[dict[str, Any]] = deque(maxlen=size)
        self._ids = itertools.count(1)

    def file(self, entry: dict[str, Any]) -> str:
        reference = f"LOCAL{next(self._ids):08d}"
        self.entries.append({"reference": reference, "at": datetime.now(UTC).isoformat(), **entry})
        return reference


class LocalProvider:
    """Takes SMS and WhatsApp messages; refuses invalid numbers like a real provider."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self._seen: dict[str, str] = {}

    async def send(self, message: Outgoing) -> Accepted:
        if not valid_number(message.to):
            raise Permanent(f"invalid phone number {message.to!r}")
        if message.idempotency_key in self._seen:
            return Accepted(self._seen[message.idempotency_key])
        reference = self.outbox.file(
            {
                "channel": message.channel,
                "to": message.to,
                "from": message.from_phone,
                "body": message.body,
                "whatsapp_template": message.whatsapp_template,
                "idempotency_key": message.idempotency_key,
            }
        )
        self._seen[message.idempotency_key] = reference
        return Accepted(reference)


class _FileMail:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        body = mail.get_body(preferencelist=("plain",))
        self.outbox.file(
            {
                "channel": "email",
                "to": ", ".join(envelope.rcpt_tos),
                "from": envelope.mail_from,
                # a header too long for one line is folded onto the next: the folding
                # whitespace belongs to no value
                "subject": str(mail["Subject"]).strip(),
                "body": body.get_content() if body else "",
                "attachments": [a.get_filename() for a in mail.iter_attachments()],
                "idempotency_key": str(mail.get("X-Slotline-Idempotency-Key", "")).strip(),
            }
        )
        return "250 Message accepted for delivery"


class LocalMailSink:
    """An SMTP server on localhost that files every mail it receives in the outbox."""

    def __init__(self, outbox: Outbox, port: int) -> None:
        self.controller = Controller(_FileMail(outbox), hostname="127.0.0.1", port=port)

    @property
    def port(self) -> int:
        return int(self.controller.port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()
