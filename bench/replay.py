"""Benchmark ``slotline replay``: 100,000 stored events re-published to a back-fill topic.

Prints ``replay_throughput`` (stored events read, mapped with the service's integration
mapper and acknowledged by the broker, per second) and ``replay_backfill_read``
(seconds a plain consumer then takes to read every replayed record). The events are
``Tally`` counts (the plumbing's test domain), written straight to the store in large
transactions so that setting up takes seconds. Uses embedded PostgreSQL and Tansu unless
``SLOTLINE_DATABASE_URL`` / ``SLOTLINE_KAFKA_BOOTSTRAP`` are set.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path

from slotline.events.cli_replay import Replay, replay_producer
from slotline.events.kafka import ensure_topics
from slotline.events.local.infra import EmbeddedKafka, EmbeddedPostgres
from slotline.events.settings import ServiceSettings
from slotline.events.store import ensure_schema, postgres_env
from slotline.events.testing.reading import read_topic
from slotline.events.testing.tally import Tally, TallyApplication, tally_to_message

EVENTS = int(os.environ.get("BENCH_REPLAY_EVENTS", "100000"))
AGGREGATES = 1_000
PER_SAVE = 500
BACKFILL_TOPIC = "bench.backfill.tally.v1"


def write_events(app: TallyApplication) -> None:
    """``EVENTS`` stored events: ``AGGREGATES`` tallies created, then counted in
    transactions of ``PER_SAVE`` events (bigger ones stall psycopg's pipeline)."""
    tallies = [Tally() for _ in range(AGGREGATES)]
    for start in range(0, AGGREGATES, PER_SAVE):
        app.save(*tallies[start : start + PER_SAVE])
    written = AGGREGATES
    while written < EVENTS:
        chosen = tallies[written % AGGREGATES :][: min(PER_SAVE, EVENTS - written)]
        for tally in chosen:
            tally.count(1)
        app.save(*chosen)
        written += len(chosen)


async def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="slotline-bench-"))
    postgres = kafka = None
    database_url = os.environ.get("SLOTLINE_DATABASE_URL")
    if not database_url:
        postgres = EmbeddedPostgres(tmp / "pg").start()
        database_url = postgres.create_database("bench")
    bootstrap = os.environ.get("SLOTLINE_KAFKA_BOOTSTRAP")
    if not bootstrap:
        kafka = EmbeddedKafka().start()
        bootstrap = kafka.bootstrap
    try:
        settings = ServiceSettings(
            service_name="bench-replay", database_url=database_url, kafka_bootstrap=bootstrap
        )
        await ensure_topics(bootstrap, [BACKFILL_TOPIC])
        ensure_schema(database_url, settings.schema_name)
        app = TallyApplication(env=postgres_env(database_url, settings.schema_name))
        await asyncio.to_thread(write_events, app)
        stored = app.recorder.max_notification_id() or 0

        producer = replay_producer(settings)
        await producer.start()
        replay = Replay(app, producer, tally_to_message, to_topic=BACKFILL_TOPIC)
        outcome = await replay.run()
        await producer.stop()
        assert outcome.read == stored, (outcome.read, stored)
        print(f"replay_throughput: {outcome.rate:.0f} events/s")
        print(f"replay_events: {outcome.read} events")

        started = time.perf_counter()
        records = await read_topic(
            bootstrap, BACKFILL_TOPIC, expected=outcome.published, timeout=300
        )
        print(f"replay_backfill_read: {time.perf_counter() - started:.1f} s")
        assert len(records) >= outcome.published, (len(records), outcome.published)
        app.close()
    finally:
        if kafka:
            kafka.stop()
        if postgres:
            postgres.stop()


if __name__ == "__main__":
    asyncio.run(main())
