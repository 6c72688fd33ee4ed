"""Fixtures for the plumbing tests: a tally producer, a ledger consumer, a broker."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from faststream.kafka import KafkaBroker

from slotline.events.kafka import build_broker, ensure_topics
from slotline.events.settings import ServiceSettings
from slotline.events.store import ensure_schema, postgres_env
from slotline.events.testing.tally import TALLY_TOPIC, TallyApplication, TallyLedger
from slotline.events.topics import dead_letter_topic


@pytest.fixture
def settings(database_url: str, kafka_bootstrap: str) -> ServiceSettings:
    return ServiceSettings(
        service_name="plumbing-test", database_url=database_url, kafka_bootstrap=kafka_bootstrap
    )


def _open(app_class: type, database_url: str, schema: str) -> object:
    ensure_schema(database_url, schema)
    return app_class(env=postgres_env(database_url, schema))


@pytest.fixture
def tally_app(database_url: str) -> Iterator[TallyApplication]:
    app = _open(TallyApplication, database_url, "producer")
    assert isinstance(app, TallyApplication)
    yield app
    app.close()


@pytest.fixture
def ledger(database_url: str) -> Iterator[TallyLedger]:
    app = _open(TallyLedger, database_url, "consumer")
    assert isinstance(app, TallyLedger)
    yield app
    app.close()


@pytest.fixture
async def tally_topics(kafka_bootstrap: str) -> str:
    await ensure_topics(kafka_bootstrap, [TALLY_TOPIC, dead_letter_topic(TALLY_TOPIC)])
    return TALLY_TOPIC


@pytest.fixture
async def producer_broker(
    settings: ServiceSettings, tally_topics: str
) -> AsyncIterator[KafkaBroker]:
    broker = build_broker(settings)
    await broker.start()
    yield broker
    await broker.stop()
