"""Fixtures of the notifier integration tests: a real SMTP server and a provider simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from aiosmtpd.controller import Controller

from slotline.events.local.infra import free_port
from slotline.notifier.simulator import ProviderSimulator, serving
from slotline.notifier.testing import MailServer


@pytest.fixture(scope="module")
def mail_server() -> Iterator[MailServer]:
    server = MailServer(port=free_port())
    controller = Controller(server, hostname="127.0.0.1", port=server.port)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture(scope="module")
async def provider() -> AsyncIterator[tuple[ProviderSimulator, str]]:
    simulator = ProviderSimulator()
    async with serving(simulator, free_port()) as url:
        yield simulator, url
