"""pytest fixtures giving tests a real PostgreSQL and a real Kafka-protocol broker."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from slotline.events.kafka import ensure_topics
from slotline.events.telemetry import configure_tracing
from slotline.events.testing.infrastructure import TestInfrastructure, start_infrastructure

QUICK_JOIN = {
    "SLOTLINE_KAFKA_SESSION_TIMEOUT_MS": "2000",
    "SLOTLINE_KAFKA_HEARTBEAT_INTERVAL_MS": "500",
}
"""Tansu holds a consumer's join to its group for half the session timeout: at the
production default (6 s) every service a test starts waited 3 s to be ready, at 2 s it
waits 1 s. A process a test starts inherits these; a test of the defaults (the chaos
run, ``make run``'s stack) clears every ``SLOTLINE_`` variable."""


def pytest_configure(config: pytest.Config) -> None:
    for name, value in QUICK_JOIN.items():
        os.environ.setdefault(name, value)


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
    async with _broker(infrastructure) as bootstrap:
        yield bootstrap


@pytest.fixture(scope="module")
def module_database_url(infrastructure: TestInfrastructure) -> str:
    """One database shared by a module's tests (for a service started once per module)."""
    return infrastructure.new_database()


@pytest.fixture(scope="module")
async def module_kafka_bootstrap(infrastructure: TestInfrastructure) -> AsyncIterator[str]:
    """One broker shared by a module's tests, topics created."""
    async with _broker(infrastructure) as bootstrap:
        yield bootstrap


@pytest.fixture(scope="package")
def package_database_url(infrastructure: TestInfrastructure) -> str:
    """One database shared by a test package (services started once for its modules)."""
    return infrastructure.new_database()


@pytest.fixture(scope="package")
async def package_kafka_bootstrap(infrastructure: TestInfrastructure) -> AsyncIterator[str]:
    """One broker shared by a test package, topics created."""
    async with _broker(infrastructure) as bootstrap:
        yield bootstrap


@asynccontextmanager
async def _broker(infrastructure: TestInfrastructure) -> AsyncIterator[str]:
    bootstrap, stop = infrastructure.new_kafka()
    try:
        await ensure_topics(bootstrap)
        yield bootstrap
    finally:
        stop()


@pytest.fixture(scope="session")
def span_exporter() -> InMemorySpanExporter:
    """Every span the test process records (the SDK tracer provider is installed once)."""
    exporter = InMemorySpanExporter()
    configure_tracing("tests", extra_processor=SimpleSpanProcessor(exporter))
    return exporter
