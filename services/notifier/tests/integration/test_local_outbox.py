"""``make run``'s local channels: what an e-mail carried is what ``GET /outbox`` shows, and
who may see it."""

from __future__ import annotations

import pytest

from slotline.events.local.infra import free_port
from slotline.events.testing.service import bearer, running
from slotline.notifier.channels.email import SmtpSender
from slotline.notifier.channels.local import LocalMailSink, Outbox
from slotline.notifier.channels.port import Outgoing
from slotline.notifier.settings import NotifierSettings
from slotline.notifier.wiring import service_spec

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


async def outbox_answers(database_url: str, bootstrap: str, enabled: bool) -> list[int]:
    """``GET /outbox`` with no token, a front desk's and a manager's."""
    settings = NotifierSettings(
        database_url=database_url,
        kafka_bootstrap=bootstrap,
        http_port=free_port(),
        outbox_enabled=enabled,
    )
    async with running(service_spec(settings)) as service:
        return [
            (await service.client.get("/outbox", headers=headers)).status_code
            for headers in ({}, bearer("front_desk", "t1"), bearer("manager", "t1"))
        ]


async def test_the_local_outbox_is_off_unless_enabled_and_then_for_a_manager_only(
    module_database_url: str, module_kafka_bootstrap: str
) -> None:
    """It shows every tenant's messages and manage links: make run turns it on."""
    assert await outbox_answers(module_database_url, module_kafka_bootstrap, False) == [
        404,
        404,
        404,
    ]
    assert await outbox_answers(module_database_url, module_kafka_bootstrap, True) == [
        401,
        403,
        200,
    ]
