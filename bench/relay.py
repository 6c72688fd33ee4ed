"""Benchmark the outbox relay on the local stack.

Prints ``relay_throughput`` (10,000 stored events drained from the store to the broker)
and ``relay_lag_p50`` / ``relay_lag_p99`` (event stored → seen by a consumer, at a steady
1,000 events/s written as one 20-event transaction every 20 ms (a group commit) while
the relay runs;
"stored" is the domain event's timestamp, taken just before its transaction commits),
then where that lag goes: ``relay_lag_committed`` (timestamp → its transaction
committed), ``relay_lag_produced`` (timestamp → the relay's producer stamped the Kafka
record: commit, NOTIFY, read, map, hand to the producer) and ``relay_lag_fetched`` (record
stamped → consumed: batching, acknowledgement, broker, the consumer's fetch wait), and
the load average. The relay maps through a ``Publisher`` table, as every service's
does. Uses embedded PostgreSQL and Tansu unless ``SLOTLINE_DATABASE_URL`` /
``SLOTLINE_KAFKA_BOOTSTRAP`` are set.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from datetime import datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from support import figure, infrastructure, percentile

from slotline.events.kafka import RecordSender, build_producer, ensure_topics
from slotline.events.relay import OutboxRelay
from slotline.events.settings import ServiceSettings
from slotline.events.store import ensure_schema, postgres_env
from slotline.events.testing.tally import TALLY_TOPIC, Tally, TallyApplication, tally_publisher
from slotline.events.topics import dead_letter_topic

EVENTS = 10_000
AGGREGATES = 100
LAG_RATE = 1_000  # events/s written during the lag run
LAG_SECONDS = 5


def write_events(app: TallyApplication, total: int, aggregates: list[Tally]) -> None:
    per_save = 50
    for start in range(0, total, per_save):
        for i in range(start, min(start + per_save, total)):
            aggregates[i % len(aggregates)].count(1)
        app.save(*aggregates)


async def open_consumer(bootstrap: str) -> AIOKafkaConsumer:
    """A consumer positioned at the current end of the topic (no group: no join delay)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, fetch_max_wait_ms=5)
    await consumer.start()
    while not consumer.partitions_for_topic(TALLY_TOPIC):
        await consumer.topics()  # fetches the cluster's metadata, this topic's included
    partitions = [
        TopicPartition(TALLY_TOPIC, p) for p in consumer.partitions_for_topic(TALLY_TOPIC) or ()
    ]
    consumer.assign(partitions)
    await consumer.seek_to_end(*partitions)
    for partition in partitions:
        await consumer.position(partition)
    return consumer


async def consume(
    consumer: AIOKafkaConsumer,
    expected: int,
    lags: list[float],
    since: float,
    parts: dict[str, list[float]],
) -> None:
    """Collect the lag of every event stored after ``since`` (earlier ones are not ours),
    and its two halves: until the relay's producer stamped the record, and from then on."""
    try:
        while len(lags) < expected:
            batches = await consumer.getmany(timeout_ms=1000)
            now = time.time()
            for records in batches.values():
                for record in records:
                    occurred_at = datetime.fromisoformat(json.loads(record.value)["occurred_at"])
                    if occurred_at.timestamp() >= since:
                        lags.append(now - occurred_at.timestamp())
                        produced = record.timestamp / 1000
                        parts["produced"].append(produced - occurred_at.timestamp())
                        parts["fetched"].append(now - produced)
    finally:
        await consumer.stop()


async def main() -> None:
    async with infrastructure("relay") as (database_url, bootstrap, _):
        await ensure_topics(bootstrap, [TALLY_TOPIC, dead_letter_topic(TALLY_TOPIC)])
        settings = ServiceSettings(
            service_name="bench", database_url=database_url, kafka_bootstrap=bootstrap
        )
        ensure_schema(database_url, settings.schema_name)
        app = TallyApplication(env=postgres_env(database_url, settings.schema_name))
        tallies = [Tally() for _ in range(AGGREGATES)]
        await asyncio.to_thread(write_events, app, EVENTS, tallies)

        producer = build_producer(settings)  # as a service's runtime sends (ADR 0007)
        await producer.start()
        relay = OutboxRelay(
            app, RecordSender(producer), tally_publisher(), database_url=database_url
        )
        started = time.perf_counter()
        published = 0
        while published < EVENTS + AGGREGATES:  # + one creation event per aggregate
            published += await relay.relay_once()
        elapsed = time.perf_counter() - started
        figure("relay_throughput", f"{published / elapsed:.0f} events/s")

        lags: list[float] = []
        parts: dict[str, list[float]] = {"committed": [], "produced": [], "fetched": []}
        expected = LAG_RATE * LAG_SECONDS
        consumer = asyncio.create_task(
            consume(await open_consumer(bootstrap), expected, lags, time.time(), parts)
        )
        relaying = asyncio.create_task(relay.run())
        await asyncio.sleep(1.0)  # steady state: the relay is listening, the consumer fetching
        tick = 0.02
        per_tick = int(LAG_RATE * tick)
        for _ in range(int(LAG_SECONDS / tick)):
            began = time.perf_counter()
            parts["committed"] += await asyncio.to_thread(_write_stamped, app, tallies, per_tick)
            await asyncio.sleep(max(0.0, tick - (time.perf_counter() - began)))
        await asyncio.wait_for(consumer, timeout=60)
        relay.stop()
        await relaying
        await producer.stop()
        figure("relay_lag_p50", f"{statistics.median(lags) * 1000:.1f} ms")
        figure("relay_lag_p99", f"{percentile(lags, 0.99) * 1000:.1f} ms")
        for part, values in parts.items():  # where the lag goes (the first includes the next)
            figure(f"relay_lag_{part}_p50", f"{statistics.median(values) * 1000:.1f} ms")
            figure(f"relay_lag_{part}_p99", f"{percentile(values, 0.99) * 1000:.1f} ms")
        figure("load_average_1m", f"{os.getloadavg()[0]:.2f}")
        app.close()


def _write_stamped(app: TallyApplication, tallies: list[Tally], n: int) -> list[float]:
    """``n`` events of ``n`` aggregates in one transaction, as a group commit writes them;
    how long after its timestamp each event's transaction had committed."""
    chosen = [tallies[i % len(tallies)] for i in range(n)]
    for tally in chosen:
        tally.count(1)
    stamps = [event.timestamp.timestamp() for tally in chosen for event in tally.pending_events]
    app.save(*chosen)
    return [time.time() - stamp for stamp in stamps]


if __name__ == "__main__":
    asyncio.run(main())
