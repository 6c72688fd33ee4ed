"""pytest fixtures giving tests a real PostgreSQL and a real Kafka-protocol broker."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from slotline.events.kafka import ensure_topics
from slotline.events.testing.infrastructure import TestInfrastructure, start_infrastructure


@pytest.fixture(scope="session")
def infrastructure() -> Iterator[TestInfrastructure]:
    infra = start_infrastructure()
    try:
        yield infra
    finally:
        infra.close()


@pytest.fixture
def database_url(infrastructure: TestInfrastructure) -> str:
    """A fresh database for this test."""
    return infrastructure.new_database()


@pytest.fixture
async def kafka_bootstrap(infrastructure: TestInfrastructure) -> AsyncIterator[str]:
    """A broker for this test with every public topic (and DLQ) created."""
    bootstrap, stop = infrastructure.new_kafka()
    try:
        await ensure_topics(bootstrap)
        yield bootstrap
    finally:
        stop()
