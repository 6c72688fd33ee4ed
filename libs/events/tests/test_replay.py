"""Replay re-publishes stored events exactly as the relay first did, from a position or a
date, and a consumer that already has them recognises every one."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import anyio
import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord
from faststream.kafka import KafkaBroker
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from slotline.events.cli_replay import Replay, replay_producer
from slotline.events.inbox import Outcome
from slotline.events.kafka import ensure_topics
from slotline.events.relay import OutboxRelay
from slotline.events.settings import ServiceSettings
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

pytestmark = pytest.mark.integration

BACKFILL = "test.backfill.tally.v1"


def count(app: TallyApplication, tallies: list[Tally], rounds: int) -> None:
    for _ in range(rounds):
        for tally in tallies:
            tally.count(1)
        app.save(*tallies)


async def relay_all(app: TallyApplication, broker: KafkaBroker, database_url: str) -> None:
    relay = OutboxRelay(app, broker, tally_to_message, database_url=database_url)
    while await relay.relay_once():
        pass


def by_event_id(
    records: list[ConsumerRecord[bytes, bytes]],
) -> dict[str, ConsumerRecord[bytes, bytes]]:
    return {json.loads(r.value)["event_id"]: r for r in records}


@pytest.fixture
async def producer(settings: ServiceSettings, tally_topics: str) -> AsyncIterator[AIOKafkaProducer]:
    await ensure_topics(settings.kafka_bootstrap, [BACKFILL])
    sender = replay_producer(settings)
    await sender.start()
    yield sender
    await sender.stop()


class TestReplayKeepsThePublication:
    async def test_replayed_records_are_the_relayed_ones_on_another_topic(
        self,
        tally_app: TallyApplication,
        producer_broker: KafkaBroker,
        producer: AIOKafkaProducer,
        database_url: str,
        kafka_bootstrap: str,
        span_exporter: InMemorySpanExporter,
    ) -> None:
        tallies = [Tally() for _ in range(4)]
        with trace.get_tracer("test").start_as_current_span("counting"):
            count(tally_app, tallies, rounds=3)
        await relay_all(tally_app, producer_broker, database_url)

        outcome = await Replay(tally_app, producer, tally_to_message, to_topic=BACKFILL).run()

        assert (outcome.read, outcome.published) == (16, 12)  # 4 creations are not published
        originals = by_event_id(await read_topic(kafka_bootstrap, TALLY_TOPIC, expected=12))
        replayed = by_event_id(
            await read_topic(kafka_bootstrap, BACKFILL, expected=12, settle_seconds=0.5)
        )
        assert len(originals) == len(replayed) == 12
        for event_id, original in originals.items():
            copy = replayed[event_id]
            assert copy.value == original.value  # the same envelope, byte for byte
            assert copy.key == original.key
            headers, original_headers = dict(copy.headers), dict(original.headers)
            for name in ("content-type", "event_type", "schema_version"):
                assert headers[name] == original_headers[name]
            trace_id = original_headers["traceparent"].split(b"-")[1]
            assert headers["traceparent"].split(b"-")[1] == trace_id  # the original trace

    async def test_a_consumer_that_has_the_events_skips_every_replayed_one(
        self,
        tally_app: TallyApplication,
        ledger: TallyLedger,
        producer_broker: KafkaBroker,
        producer: AIOKafkaProducer,
        database_url: str,
        kafka_bootstrap: str,
        settings: ServiceSettings,
    ) -> None:
        tallies = [Tally() for _ in range(3)]
        count(tally_app, tallies, rounds=2)
        await relay_all(tally_app, producer_broker, database_url)
        inbox = ledger_inbox(ledger, producer_broker, settings)

        await Replay(tally_app, producer, tally_to_message).run()  # onto the original topic

        records = await read_topic(kafka_bootstrap, TALLY_TOPIC, expected=12, settle_seconds=0.5)
        assert len(records) == 12  # 6 relayed + 6 replayed
        ordered = sorted(records, key=lambda r: r.offset)
        outcomes = [d.outcome for d in await inbox.apply(ordered)]
        assert outcomes.count(Outcome.APPLIED) == 6
        assert outcomes.count(Outcome.DUPLICATE) == 6
        for tally in tallies:
            credit: Credit = ledger.repository.get(Credit.create_id(str(tally.id)))
            assert credit.amounts == [1, 1]


class TestChoosingWhatToReplay:
    async def test_from_a_position_only_later_events_are_replayed(
        self,
        tally_app: TallyApplication,
        producer: AIOKafkaProducer,
        kafka_bootstrap: str,
    ) -> None:
        tallies = [Tally() for _ in range(2)]
        count(tally_app, tallies, rounds=5)  # positions 1–2 creations, 3–12 counts

        outcome = await Replay(tally_app, producer, tally_to_message, to_topic=BACKFILL).run(
            start=9
        )

        assert (outcome.first_position, outcome.last_position, outcome.published) == (9, 12, 4)
        records = await read_topic(kafka_bootstrap, BACKFILL, expected=4, settle_seconds=0.5)
        assert sorted(json.loads(r.value)["sequence"] for r in records) == [5, 5, 6, 6]

    async def test_up_to_a_position_and_in_small_batches(
        self, tally_app: TallyApplication, producer: AIOKafkaProducer
    ) -> None:
        count(tally_app, [Tally() for _ in range(3)], rounds=4)  # positions 1–15

        replay = Replay(tally_app, producer, tally_to_message, to_topic=BACKFILL, batch_size=2)
        outcome = await replay.run(start=4, stop=10)

        assert (outcome.read, outcome.first_position, outcome.last_position) == (7, 4, 10)

    async def test_since_a_date_events_stored_before_it_are_left_out(
        self,
        tally_app: TallyApplication,
        producer: AIOKafkaProducer,
        kafka_bootstrap: str,
    ) -> None:
        tallies = [Tally() for _ in range(2)]
        count(tally_app, tallies, rounds=3)  # positions 1–8
        await anyio.sleep(0.01)
        cut = datetime.now(UTC)
        count(tally_app, tallies, rounds=2)  # positions 9–12

        exact = Replay(tally_app, producer, tally_to_message, clock_skew=timedelta(0))
        assert exact.first_position_since(cut) == 9
        assert exact.first_position_since(cut - timedelta(days=1)) == 1
        assert exact.first_position_since(cut + timedelta(days=1)) == 13  # nothing yet
        outcome = await Replay(
            tally_app, producer, tally_to_message, to_topic=BACKFILL, since=cut
        ).run()

        assert outcome.published == 4
        records = await read_topic(kafka_bootstrap, BACKFILL, expected=4, settle_seconds=0.5)
        assert sorted(json.loads(r.value)["sequence"] for r in records) == [5, 5, 6, 6]

    async def test_events_of_other_topics_are_left_out(
        self, tally_app: TallyApplication, producer: AIOKafkaProducer
    ) -> None:
        count(tally_app, [Tally()], rounds=3)

        only_bookings = Replay(
            tally_app, producer, tally_to_message, to_topic=BACKFILL, topics=["booking.events.v1"]
        )
        outcome = await only_bookings.run()

        assert (outcome.read, outcome.published) == (4, 0)
