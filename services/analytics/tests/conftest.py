"""Fixtures of the analytics tests: the whole service on a real database and broker."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from slotline.analytics.settings import AnalyticsSettings
from slotline.analytics.wiring import service_spec
from slotline.events.local.infra import free_port
from slotline.events.testing.service import RunningService, running


@pytest.fixture(scope="module")
async def service(
    module_database_url: str, module_kafka_bootstrap: str
) -> AsyncIterator[RunningService]:
    """The analytics service (as wiring.py builds it) on a real port, once per module:
    the consumer-group join alone takes seconds. Tests use their own tenants."""
    settings = AnalyticsSettings(
        database_url=module_database_url,
        kafka_bootstrap=module_kafka_bootstrap,
        http_port=free_port(),
        relay_idle_poll_seconds=0.2,
        inbox_retry_initial_seconds=0.01,
    )
    async with running(service_spec(settings)) as running_service:
        yield running_service
