"""Fixtures of the availability tests: the application on a real PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from slotline.availability.application import AvailabilityApplication
from slotline.availability.live.projection import SlotProjection
from slotline.events.store import ensure_schema, postgres_env

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
