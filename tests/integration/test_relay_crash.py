"""Chaos: the relay process is SIGKILLed while publishing; nothing is lost or applied twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from faststream.kafka import KafkaBroker

from slotline.events.inbox import Outcome
from slotline.events.kafka import build_broker, ensure_topics
from slotline.events.relay import OutboxRelay
from slotline.events.settings import ServiceSettings
from slotline.events.store import ensure_schema, postgres_env
from slotline.events.testing.reading import read_topic
from slotline.events.testing.tally import (
    TALLY_TOPIC,
    Credit,
    Tally,
    TallyApplication,
    TallyLedger,
    ledger_inbox,
    tally_to_message,
)
from slotline.events.topics import dead_letter_topic

pytestmark = pytest.mark.integration

TALLIES, ROUNDS = 10, 150

RELAY_PROCESS = textwrap.dedent(
    """
    import asyncio, sys
    from slotline.events.kafka import build_broker
    from slotline.events.relay import OutboxRelay
    from slotline.events.settings import ServiceSettings
    from slotline.events.store import postgres_env
    from slotline.events.testing.tally import TallyApplication, tally_to_message

    async def main(url: str, bootstrap: str) -> None:
        app = TallyApplication(env=postgres_env(url, "producer"))
        broker = build_broker(ServiceSettings(database_url=url, kafka_bootstrap=bootstrap))
        await broker.start()
        relay = OutboxRelay(app, broker, tally_to_message, database_url=url, batch_size=20)
        await relay.run()

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


async def published_count(bootstrap: str) -> int:
    """Roughly how many records the topic holds (Tansu's end offsets can lag behind)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        partitions = [TopicPartition(TALLY_TOPIC, p) for p in range(3)]
        ends = await consumer.end_offsets(partitions)
        return sum(ends.values())
    finally:
        await consumer.stop()


async def run_relay_until(url: str, bootstrap: str, at_least: int) -> None:
    """Start a relay process and SIGKILL it once ``at_least`` records are on the topic."""
    process = subprocess.Popen([sys.executable, "-c", RELAY_PROCESS, url, bootstrap])
    try:
        while await published_count(bootstrap) < at_least:
            assert process.poll() is None, "the relay process died on its own"
            await asyncio.sleep(0.01)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()


async def test_killed_relays_lose_nothing_and_the_consumer_applies_each_event_once(
    database_url: str, kafka_bootstrap: str
) -> None:
    await ensure_topics(kafka_bootstrap, [TALLY_TOPIC, dead_letter_topic(TALLY_TOPIC)])
    for schema in ("producer", "consumer"):
        ensure_schema(database_url, schema)
    producer = TallyApplication(env=postgres_env(database_url, "producer"))
    ledger = TallyLedger(env=postgres_env(database_url, "consumer"))
    tallies = [Tally() for _ in range(TALLIES)]
    for round_ in range(ROUNDS):
        for tally in tallies:
            tally.count(round_ + 1)
        producer.save(*tallies)
    total = TALLIES * ROUNDS

    await run_relay_until(database_url, kafka_bootstrap, at_least=total // 4)
    await run_relay_until(database_url, kafka_bootstrap, at_least=total // 2)

    settings = ServiceSettings(database_url=database_url, kafka_bootstrap=kafka_bootstrap)
    broker: KafkaBroker = build_broker(settings)
    await broker.start()
    try:
        relay = OutboxRelay(producer, broker, tally_to_message, database_url=database_url)
        while await relay.relay_once():
            pass
        # Read until quiet: the broker's end offsets are not trusted (Tansu reports stale ones).
        records = await read_topic(
            kafka_bootstrap, TALLY_TOPIC, expected=total, timeout=60, settle_seconds=1.0
        )
        on_topic = len(records)
        assert on_topic >= total  # at least once

        inbox = ledger_inbox(ledger, broker, settings)
        outcomes = [d.outcome for d in await inbox.apply(list(records))]
    finally:
        await broker.stop()

    assert outcomes.count(Outcome.APPLIED) == total
    assert outcomes.count(Outcome.DUPLICATE) == on_topic - total
    for tally in tallies:
        credit: Credit = ledger.repository.get(Credit.create_id(str(tally.id)))
        assert credit.amounts == list(range(1, ROUNDS + 1))  # each once, in order
    producer.close()
    ledger.close()
