"""The embedded broker restarts empty: offsets start again at 0, so a consumer keeping
its old position would skip every new record below it. Told of the restart (the NOTIFY
the local stack sends), the inbox's consumer reads every partition from the start."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import psycopg
import pytest
from aiokafka import AIOKafkaProducer

from slotline.events.broker_watch import BrokerRestarts
from slotline.events.channel_watch import ChannelWatch
from slotline.events.consumer import Record, RecordSource
from slotline.events.kafka import ensure_topics
from slotline.events.local.infra import EmbeddedKafka
from slotline.events.relay import BROKER_RESTARTED
from slotline.events.settings import ServiceSettings

pytestmark = pytest.mark.integration

TOPIC = "slotline.test.rewind.v1"


async def produce(bootstrap: str, values: list[str]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(TOPIC, value.encode(), key=value.encode())
    finally:
        await producer.stop()


async def collect(source: RecordSource, wanted: set[str], timeout: float) -> set[str]:
    seen: set[str] = set()
    deadline = asyncio.get_running_loop().time() + timeout
    while not wanted <= seen and asyncio.get_running_loop().time() < deadline:
        records: list[Record] = await source.batch(timeout_ms=200)
        seen |= {bytes(r.value or b"").decode() for r in records}
        source.done(records)
    return seen


async def test_after_an_empty_restart_the_consumer_reads_from_the_start(database_url: str) -> None:
    kafka = EmbeddedKafka().start()
    settings = ServiceSettings(kafka_bootstrap=kafka.bootstrap, database_url=database_url)

    async def nothing() -> None:
        return None

    source = RecordSource(
        [TOPIC], settings, group_id=f"rewind-{uuid4().hex}", before_revoke=nothing
    )
    watch = ChannelWatch(database_url, [BrokerRestarts(source.rewind)])
    watching = asyncio.create_task(watch.run())
    try:
        await ensure_topics(kafka.bootstrap, [TOPIC])
        await source.start()
        old = [f"old-{n}" for n in range(30)]
        await produce(kafka.bootstrap, old)
        assert await collect(source, set(old), timeout=30) >= set(old)

        port = kafka.port
        kafka.stop()
        kafka = EmbeddedKafka(port).start()
        await ensure_topics(kafka.bootstrap, [TOPIC])
        with psycopg.connect(database_url, autocommit=True) as connection:
            connection.execute(f"NOTIFY {BROKER_RESTARTED}")
        new = [f"new-{n}" for n in range(5)]  # fewer than the old position on any partition
        await produce(kafka.bootstrap, new)
        assert await collect(source, set(new), timeout=30) >= set(new)
    finally:
        watch.stop()
        await watching
        await source.stop()
        kafka.stop()
