"""Fixtures of the availability tests: the application on a real PostgreSQL database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest

from slotline.availability.application import AvailabilityApplication
from slotline.availability.live.projection import SlotProjection
from slotline.availability.settings import AvailabilitySettings
from slotline.availability.wiring import service_spec
from slotline.events.local.infra import free_port
from slotline.events.store import ensure_schema, postgres_env
from slotline.events.testing.service import RunningService, running

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def app(database_url: str) -> Iterator[AvailabilityApplication]:
    ensure_schema(database_url, "availability")
    env = postgres_env(database_url, "availability", pool_size=16)
    application = AvailabilityApplication(env=env, clock=lambda: NOW)
    yield application
    application.close()


@pytest.fixture
def projection(app: AvailabilityApplication, database_url: str) -> SlotProjection:
    return SlotProjection(app, database_url=database_url)


@pytest.fixture(scope="module")
async def service(
    module_database_url: str, module_kafka_bootstrap: str
) -> AsyncIterator[RunningService]:
    """The whole availability service (as wiring.py builds it) on a real port, once per
    module: a broker's consumer-group join alone takes seconds. Tests use own tenants."""
    settings = AvailabilitySettings(
        database_url=module_database_url,
        kafka_bootstrap=module_kafka_bootstrap,
        http_port=free_port(),
        expiry_interval_seconds=0.2,
        relay_idle_poll_seconds=0.2,
    )
    async with running(service_spec(settings)) as running_service:
        yield running_service
