"""Fixtures of the notifier integration tests: a real SMTP server, a provider simulator,
and a notifier on the module's database and broker with a clock the tests move."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from aiosmtpd.controller import Controller

from slotline.events.local.infra import free_port
from slotline.events.testing.service import RunningService, running
from slotline.notifier.simulator import ProviderSimulator, serving
from slotline.notifier.testing import MailServer, TestClock, notifier_settings
from slotline.notifier.wiring import service_spec


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


@pytest.fixture(scope="module")
def clock() -> TestClock:
    return TestClock()


@pytest.fixture(scope="module")
async def service(
    module_database_url: str,
    module_kafka_bootstrap: str,
    mail_server: MailServer,
    provider: tuple[ProviderSimulator, str],
    clock: TestClock,
) -> AsyncIterator[RunningService]:
    settings = notifier_settings(module_database_url, module_kafka_bootstrap, mail_server, provider)
    async with running(service_spec(settings, clock=clock)) as running_service:
        yield running_service
