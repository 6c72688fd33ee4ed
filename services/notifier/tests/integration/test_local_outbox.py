"""``make run``'s local channels: what an e-mail carried is what ``GET /outbox`` shows."""

from __future__ import annotations

import pytest

from slotline.events.local.infra import free_port
from slotline.notifier.channels.email import SmtpSender
from slotline.notifier.channels.local import LocalMailSink, Outbox
from slotline.notifier.channels.port import Outgoing

pytestmark = pytest.mark.integration


async def test_a_long_idempotency_key_arrives_as_sent_though_the_header_is_folded() -> None:
    """A key longer than a header line is folded onto the next line by the sender; the
    folding whitespace is not part of the key (it showed as a leading space)."""
    outbox = Outbox()
    sink = LocalMailSink(outbox, free_port())
    sink.start()
    try:
        key = "booking:6f1c2a9e-0d6e-4b8e-9b51-2f0c5a1d7e33:reminder_24h/email"
        sender = SmtpSender("127.0.0.1", sink.port, "Slotline <no-reply@slotline.local>")
        await sender.send(
            Outgoing(
                channel="email",
                to="eleni@example.com",
                idempotency_key=key,
                subject="Your appointment tomorrow",
                body="See you at 10:00.",
            )
        )
        [mail] = outbox.entries
        assert mail["idempotency_key"] == key
        assert mail["subject"] == "Your appointment tomorrow"
    finally:
        sink.stop()
