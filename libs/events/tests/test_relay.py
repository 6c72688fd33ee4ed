"""The outbox relay publishes every stored event, in order per key, at least once."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import pytest
from eventsourcing.persistence import Notification, OperationalError
from faststream.kafka import KafkaBroker
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from slotline.events.context import caused_by
from slotline.events.contract.dead_letter import DeadLetter
from slotline.events.envelope import Message
from slotline.events.inbox import Outcome
from slotline.events.publishing import Publisher
from slotline.events.relay import OutboxRelay
from slotline.events.settings import ServiceSettings
from slotline.events.testing.reading import eventually, read_topic
from slotline.events.testing.tally import (
    TALLY_TOPIC,
    Credit,
    Tally,
    TallyApplication,
    TallyCounted,
    TallyLedger,
    ledger_inbox,
    tally_counted,
    tally_publisher,
    tally_to_message,
)
from slotline.events.topics import OUTBOX_DEAD_LETTERS

pytestmark = pytest.mark.integration


def count_many(app: TallyApplication, tallies: list[Tally], rounds: int) -> None:
    for round_ in range(rounds):
        for tally in tallies:
            tally.count(round_ + 1)
        app.save(*tallies)


def relay_for(
    app: TallyApplication, broker: KafkaBroker, database_url: str, batch: int = 7
) -> OutboxRelay:
    return OutboxRelay(app, broker, tally_to_message, database_url=database_url, batch_size=batch)


def recording_rarely(app: TallyApplication, broker: KafkaBroker, database_url: str) -> OutboxRelay:
    """A relay of batches of two that records a position only an hour after the last."""
    return OutboxRelay(
        app, broker, tally_to_message, database_url=database_url, batch_size=2, record_interval=3600
    )


async def drain(relay: OutboxRelay) -> int:
    total = 0
    while published := await relay.relay_once():
        total += published
    return total


@dataclass(frozen=True)
class Outbox:
    """A tally service's store and the broker its relay publishes to."""

    app: TallyApplication
    broker: KafkaBroker
    database_url: str
    bootstrap: str

    def relay(self, publisher: Publisher, **options: Any) -> OutboxRelay:
        return OutboxRelay(
            self.app, self.broker, publisher, database_url=self.database_url, **options
        )

    def counted(self, *amounts: int) -> Tally:
        """A tally that counted ``amounts``, saved."""
        tally = Tally()
        for amount in amounts:
            tally.count(amount)
        self.app.save(tally)
        return tally


@pytest.fixture
def outbox(
    tally_app: TallyApplication,
    producer_broker: KafkaBroker,
    database_url: str,
    kafka_bootstrap: str,
) -> Outbox:
    return Outbox(tally_app, producer_broker, database_url, kafka_bootstrap)


class TestPublishing:
    async def test_every_event_arrives_keyed_by_aggregate_in_stream_order(
        self, outbox: Outbox
    ) -> None:
        tallies = [Tally() for _ in range(3)]
        count_many(outbox.app, tallies, rounds=10)

        await drain(relay_for(outbox.app, outbox.broker, outbox.database_url))

        records = await read_topic(outbox.bootstrap, TALLY_TOPIC, expected=30, settle_seconds=0.5)
        assert len(records) == 30
        sequences: dict[str, list[int]] = defaultdict(list)
        for record in records:
            body = json.loads(record.value)
            assert record.key is not None
            assert record.key.decode() == body["aggregate_id"]
            sequences[body["aggregate_id"]].append(body["sequence"])
        assert set(sequences) == {str(t.id) for t in tallies}
        for stream in sequences.values():
            assert stream == list(range(2, 12))  # version 1 is the creation, not published

    async def test_envelope_carries_causation_and_trace_context(
        self,
        outbox: Outbox,
        span_exporter: InMemorySpanExporter,
    ) -> None:
        tally = Tally()
        tracer = trace.get_tracer("test")
        with tracer.start_as_current_span("request") as span, caused_by("flow-42", "cause-7"):
            tally.count(5)
            outbox.app.save(tally)
        trace_id = format(span.get_span_context().trace_id, "032x")

        await drain(relay_for(outbox.app, outbox.broker, outbox.database_url))

        [record] = await read_topic(outbox.bootstrap, TALLY_TOPIC, expected=1, settle_seconds=0.5)
        body = json.loads(record.value)
        assert body["correlation_id"] == "flow-42"
        assert body["causation_id"] == "cause-7"
        headers = dict(record.headers)
        assert headers["traceparent"].decode().split("-")[1] == trace_id  # the request's trace
        assert headers["event_type"] == TallyCounted.EVENT_TYPE.encode()
        assert headers["correlation_id"] == b"flow-42", "the header says what the payload says"

    async def test_a_flows_first_message_is_its_own_correlation_in_payload_and_header(
        self, outbox: Outbox
    ) -> None:
        outbox.counted(1)  # outside any request or message: no causal context

        await drain(relay_for(outbox.app, outbox.broker, outbox.database_url))

        [record] = await read_topic(outbox.bootstrap, TALLY_TOPIC, expected=1, settle_seconds=0.5)
        body = json.loads(record.value)
        assert body["correlation_id"] == body["event_id"]
        assert dict(record.headers)["correlation_id"] == body["event_id"].encode()


class TestCrashBetweenPublishAndPositionCommit:
    async def test_restart_republishes_and_the_consumer_applies_each_effect_once(
        self,
        tally_app: TallyApplication,
        ledger: TallyLedger,
        producer_broker: KafkaBroker,
        database_url: str,
        kafka_bootstrap: str,
        settings: ServiceSettings,
    ) -> None:
        tallies = [Tally() for _ in range(4)]
        count_many(tally_app, tallies, rounds=6)  # 24 counts

        crashed = relay_for(tally_app, producer_broker, database_url, batch=10)
        first_batch = await anyio.to_thread.run_sync(crashed._next_batch)
        await crashed.publish(first_batch)  # published, then "killed": no position recorded

        restarted = relay_for(tally_app, producer_broker, database_url, batch=10)
        assert await drain(restarted) == 24 + 4  # everything since position 0, creations included

        republished = len([n for n in first_batch if n.originator_version > 1])
        records = await read_topic(
            kafka_bootstrap, TALLY_TOPIC, expected=24 + republished, settle_seconds=0.5
        )
        assert len(records) == 24 + republished

        inbox = ledger_inbox(ledger, producer_broker, settings)
        outcomes = [d.outcome for d in await inbox.apply(list(records))]
        assert outcomes.count(Outcome.APPLIED) == 24
        assert outcomes.count(Outcome.DUPLICATE) == len(records) - 24
        for tally in tallies:
            credit: Credit = ledger.repository.get(Credit.create_id(str(tally.id)))
            assert credit.amounts == [1, 2, 3, 4, 5, 6]  # once each, in order

    async def test_positions_an_interval_apart_and_a_crash_republishes_only_since_the_last(
        self,
        tally_app: TallyApplication,
        ledger: TallyLedger,
        producer_broker: KafkaBroker,
        database_url: str,
        kafka_bootstrap: str,
        settings: ServiceSettings,
    ) -> None:
        """Batches in quick succession: the first position is recorded at once, the later
        ones only when the interval is over (or the relay settles); a crash meanwhile
        re-publishes the batches since the recorded one, and the consumer applies each
        effect once."""
        tally = Tally()
        count_many(tally_app, [tally], rounds=6)  # the creation and 6 counts: 7 events
        positions = tally_app.process_recorder

        crashed = recording_rarely(tally_app, producer_broker, database_url)
        assert await crashed.follow_once() == 2
        first = crashed.position
        await eventually(lambda: positions.max_tracking_id(crashed.name) == first)
        assert await crashed.follow_once() == 2
        assert await crashed.follow_once() == 2  # 6 of 7 published
        await asyncio.sleep(0.3)
        assert positions.max_tracking_id(crashed.name) == first, "not before the interval"
        assert crashed._recording is not None
        crashed._recording.cancel()  # "killed" with two batches unrecorded

        restarted = relay_for(tally_app, producer_broker, database_url, batch=10)
        assert await drain(restarted) == 7 - 2  # the two unrecorded batches again, and the last
        assert positions.max_tracking_id(restarted.name) == tally_app.recorder.max_notification_id()

        records = await read_topic(kafka_bootstrap, TALLY_TOPIC, expected=6 + 4, settle_seconds=0.5)
        assert len(records) == 6 + 4  # 6 counts, 4 of them twice (the creation is not published)
        inbox = ledger_inbox(ledger, producer_broker, settings)
        outcomes = [d.outcome for d in await inbox.apply(list(records))]
        assert outcomes.count(Outcome.APPLIED) == 6
        assert outcomes.count(Outcome.DUPLICATE) == 4
        credit: Credit = ledger.repository.get(Credit.create_id(str(tally.id)))
        assert credit.amounts == [1, 2, 3, 4, 5, 6]

    async def test_settling_records_the_last_position_at_once(
        self, tally_app: TallyApplication, producer_broker: KafkaBroker, database_url: str
    ) -> None:
        count_many(tally_app, [Tally()], rounds=4)  # 5 events
        relay = recording_rarely(tally_app, producer_broker, database_url)
        while await relay.follow_once():
            pass
        await relay.settle()
        last = tally_app.recorder.max_notification_id()
        assert tally_app.process_recorder.max_tracking_id(relay.name) == last
        assert relay.position == last


class TestTwoReplicas:
    async def test_one_relay_leads_the_other_stands_by_and_takes_over(
        self,
        tally_app: TallyApplication,
        producer_broker: KafkaBroker,
        database_url: str,
        kafka_bootstrap: str,
    ) -> None:
        first = relay_for(tally_app, producer_broker, database_url)
        second = relay_for(tally_app, producer_broker, database_url)
        first_task = asyncio.create_task(first.run())
        await eventually(lambda: first.state == "leading")
        second_task = asyncio.create_task(second.run())
        await eventually(lambda: second.state == "standby")

        tally = Tally()
        count_many(tally_app, [tally], rounds=3)
        await eventually(lambda: first.position == 4)
        first.stop()
        await first_task
        await eventually(lambda: second.state == "leading")
        count_many(tally_app, [tally], rounds=2)
        await eventually(lambda: second.position == 6)
        second.stop()
        await second_task

        records = await read_topic(kafka_bootstrap, TALLY_TOPIC, expected=5, settle_seconds=0.5)
        assert [json.loads(r.value)["sequence"] for r in records] == [2, 3, 4, 5, 6]


class TestBrokerRestart:
    """The embedded broker keeps messages in memory: after it restarts empty, relays
    publish everything again (consumers recognise what they had), then carry on."""

    async def test_a_restarted_empty_broker_gets_every_event_again_and_then_the_new_ones(
        self, tally_app: TallyApplication, database_url: str
    ) -> None:

        import psycopg

        from slotline.events.kafka import build_broker, ensure_topics
        from slotline.events.local.infra import EmbeddedKafka
        from slotline.events.relay import BROKER_RESTARTED
        from slotline.events.testing.tally import tally_publisher

        kafka = EmbeddedKafka().start()
        try:
            await ensure_topics(kafka.bootstrap, [TALLY_TOPIC])
            broker = build_broker(ServiceSettings(kafka_bootstrap=kafka.bootstrap))
            await broker.start()
            relay = OutboxRelay(
                tally_app,
                broker,
                tally_publisher(),
                database_url=database_url,
                idle_poll_seconds=0.2,
            )
            running = asyncio.create_task(relay.run())
            tallies = [Tally(), Tally()]
            count_many(tally_app, tallies, rounds=3)  # 6 counts
            before = await read_topic(kafka.bootstrap, TALLY_TOPIC, expected=6, timeout=30)
            assert len(before) == 6

            port = kafka.port
            kafka.stop()
            kafka = EmbeddedKafka(port).start()
            await ensure_topics(kafka.bootstrap, [TALLY_TOPIC])
            assert await read_topic(kafka.bootstrap, TALLY_TOPIC, expected=0, timeout=1) == []
            with psycopg.connect(database_url, autocommit=True) as conn:
                conn.execute(f"NOTIFY {BROKER_RESTARTED}")
            count_many(tally_app, tallies, rounds=1)  # 2 more

            after = await read_topic(kafka.bootstrap, TALLY_TOPIC, expected=8, timeout=60)
            ids = {json.loads(r.value)["event_id"] for r in after}
            assert ids >= {json.loads(r.value)["event_id"] for r in before}, "all again"
            assert len(ids) == 8
            relay.stop()
            await running
            await broker.stop()
            position = await anyio.to_thread.run_sync(relay.recorded_position)
            assert position == relay.position, "the position moved on with the new events"
        finally:
            kafka.stop()

    async def test_a_relay_that_was_down_when_the_broker_restarted_republishes_on_start(
        self, tally_app: TallyApplication, database_url: str
    ) -> None:

        import psycopg

        from slotline.events.kafka import build_broker, ensure_topics
        from slotline.events.local.infra import EmbeddedKafka
        from slotline.events.local.stack import count_broker_restarts, note_broker_restart
        from slotline.events.testing.tally import tally_publisher

        count_broker_restarts(database_url)
        kafka = EmbeddedKafka().start()
        try:
            await ensure_topics(kafka.bootstrap, [TALLY_TOPIC])

            async def relay_until(expected: int) -> list[Any]:
                broker = build_broker(ServiceSettings(kafka_bootstrap=kafka.bootstrap))
                await broker.start()
                relay = OutboxRelay(tally_app, broker, tally_publisher(), database_url=database_url)
                running = asyncio.create_task(relay.run())
                records = await read_topic(
                    kafka.bootstrap, TALLY_TOPIC, expected=expected, timeout=60
                )
                await relay.settle()
                relay.stop()
                await running
                await broker.stop()
                return records

            tallies = [Tally(), Tally()]
            count_many(tally_app, tallies, rounds=3)  # 6 counts, published, relay stops
            before = await relay_until(6)

            port = kafka.port
            kafka.stop()  # no relay runs: nobody hears the NOTIFY
            kafka = EmbeddedKafka(port).start()
            await ensure_topics(kafka.bootstrap, [TALLY_TOPIC])
            note_broker_restart(database_url)
            count_many(tally_app, tallies, rounds=1)  # 2 more

            after = await relay_until(8)
            ids = {json.loads(r.value)["event_id"] for r in after}
            assert ids >= {json.loads(r.value)["event_id"] for r in before}, "all again"
            assert len(ids) == 8
            again = await relay_until(8)  # a later start finds the restart already handled
            assert len(again) == 8, "nothing re-published twice"
        finally:
            kafka.stop()
            with psycopg.connect(database_url, autocommit=True) as connection:
                connection.execute("DROP TABLE IF EXISTS public.slotline_broker_epochs")

    async def test_a_republication_cut_short_by_a_failed_publish_starts_again(
        self, tally_app: TallyApplication, database_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A publish failing halfway through re-publishing (the broker refused a batch)
        restarts the relay's task from its recorded position: without remembering that it
        was re-publishing, it would carry on from there and never send the rest again."""

        import psycopg

        from slotline.events.kafka import build_broker, ensure_topics
        from slotline.events.local.infra import EmbeddedKafka
        from slotline.events.relay import BROKER_RESTARTED
        from slotline.events.testing.tally import tally_publisher

        kafka = EmbeddedKafka().start()
        broker = build_broker(ServiceSettings(kafka_bootstrap=kafka.bootstrap))
        try:
            await ensure_topics(kafka.bootstrap, [TALLY_TOPIC])
            await broker.start()
            relay = OutboxRelay(
                tally_app,
                broker,
                tally_publisher(),
                database_url=database_url,
                batch_size=2,
                idle_poll_seconds=0.2,
            )
            running = asyncio.create_task(relay.run())
            tallies = [Tally(), Tally()]
            count_many(tally_app, tallies, rounds=4)  # 8 counts: four batches of two
            before = await read_topic(kafka.bootstrap, TALLY_TOPIC, expected=8, timeout=30)

            publish, calls = relay.publish, 0

            async def fails_the_second_time(notifications: Sequence[Notification]) -> None:
                nonlocal calls
                calls += 1
                if calls == 2:
                    raise RuntimeError("the broker refused the batch")
                await publish(notifications)

            monkeypatch.setattr(relay, "publish", fails_the_second_time)
            port = kafka.port
            kafka.stop()
            kafka = EmbeddedKafka(port).start()
            await ensure_topics(kafka.bootstrap, [TALLY_TOPIC])
            with psycopg.connect(database_url, autocommit=True) as conn:
                conn.execute(f"NOTIFY {BROKER_RESTARTED}")
            with pytest.raises(RuntimeError):
                await running  # the runtime's supervisor would restart it: so do we
            running = asyncio.create_task(relay.run())

            after = await read_topic(kafka.bootstrap, TALLY_TOPIC, expected=8, timeout=60)
            ids = {json.loads(r.value)["event_id"] for r in after}
            assert ids == {json.loads(r.value)["event_id"] for r in before}, "all again"
            relay.stop()
            await running
        finally:
            await broker.stop()
            kafka.stop()


def refusing(amount: int) -> Publisher:
    """The tally publisher, except that its mapping raises on a count of ``amount``."""
    publisher = Publisher(Tally)

    @publisher.on(Tally.Counted)
    def counted(tally: Tally, domain_event: Tally.Counted) -> Message:
        if domain_event.amount == amount:
            raise ValueError(f"a count of {amount} cannot be published")
        return tally_counted(tally, domain_event)

    return publisher


async def dead_letters(bootstrap: str, expected: int) -> list[DeadLetter]:
    records = await read_topic(
        bootstrap, OUTBOX_DEAD_LETTERS, expected=expected, settle_seconds=0.5
    )
    return [DeadLetter.model_validate_json(record.value) for record in records]


class TestAnEventThatCannotBeMapped:
    async def test_goes_to_the_outbox_dead_letter_topic_with_the_reason_and_the_next_is_published(
        self, outbox: Outbox
    ) -> None:
        tally = outbox.counted(1, 13, 2)
        bad = outbox.app.recorder.select_notifications(start=1, limit=10)[2]  # v3: the 13

        relay = outbox.relay(refusing(13))
        await drain(relay)

        published = await read_topic(outbox.bootstrap, TALLY_TOPIC, expected=2, settle_seconds=0.5)
        assert [json.loads(r.value)["amount"] for r in published] == [1, 2]
        [letter] = await dead_letters(outbox.bootstrap, expected=1)
        assert letter.consumer == "tally-relay"
        assert letter.error_type == "ValueError"
        assert "a count of 13 cannot be published" in letter.reason
        assert "in counted" in letter.reason, "the reason names the mapping that failed"
        assert letter.original_offset == bad.id, "the notification id: its place in the log"
        assert letter.original_topic == bad.topic
        assert letter.original_key == str(tally.id)
        assert letter.original_headers["service"] == "tally"
        assert letter.original_headers["notification_id"] == str(bad.id)
        assert letter.original_headers["originator_version"] == "3"

    async def test_is_dead_lettered_with_the_same_headers_as_the_inbox_writes(
        self, outbox: Outbox
    ) -> None:
        tally = outbox.counted(13)

        await drain(outbox.relay(refusing(13)))

        [record] = await read_topic(outbox.bootstrap, OUTBOX_DEAD_LETTERS, expected=1)
        headers = {name: value.decode() for name, value in record.headers}
        assert headers["dlq_consumer"] == "tally-relay"
        assert "a count of 13 cannot be published" in headers["dlq_reason"]
        assert headers["service"] == "tally"
        assert record.key == str(tally.id).encode()

    async def test_a_restart_neither_publishes_nor_dead_letters_again_what_was_recorded(
        self, outbox: Outbox
    ) -> None:
        tally = outbox.counted(13, 1)
        first = outbox.relay(refusing(13))
        await drain(first)
        last = outbox.app.recorder.max_notification_id()
        recorded = outbox.app.process_recorder.max_tracking_id(first.name)
        assert recorded == last, "recorded past the bad one"

        tally.count(2)
        outbox.app.save(tally)
        again = outbox.relay(refusing(13))
        await drain(again)

        published = await read_topic(outbox.bootstrap, TALLY_TOPIC, expected=2, settle_seconds=0.5)
        assert [json.loads(r.value)["amount"] for r in published] == [1, 2]
        assert len(await dead_letters(outbox.bootstrap, expected=1)) == 1

    async def test_of_every_later_event_of_its_aggregate_each_is_published_from_the_store(
        self, outbox: Outbox
    ) -> None:
        """The relay forgets the state it kept of an aggregate whose event it could not
        map, and reads it again from the store for the next: totals stay right."""
        outbox.counted(1, 13, 2, 3)

        relay = outbox.relay(refusing(13), batch_size=2)
        await drain(relay)

        published = await read_topic(outbox.bootstrap, TALLY_TOPIC, expected=3, settle_seconds=0.5)
        assert [json.loads(r.value)["total"] for r in published] == [1, 16, 19]

    async def test_a_failing_store_is_not_the_events_fault_and_nothing_is_skipped(
        self, outbox: Outbox
    ) -> None:
        """The database failing while the relay reads an aggregate is raised, not dead-
        lettered; the position stays, and the restarted relay publishes the event."""
        tally = outbox.counted(1, 2)
        created = outbox.app.recorder.select_notifications(start=1, limit=1)[0]
        relay = outbox.relay(tally_publisher(), batch_size=1)
        assert await relay.relay_once() == 1  # the creation: followed, nothing published
        load = relay.states.load

        def database_gone(aggregate_id: Any, version: int) -> Any:
            raise OperationalError("server closed the connection unexpectedly")

        relay.states.load = database_gone
        relay.states.forget(tally.id)  # as after a restart: the next event needs a read
        with pytest.raises(OperationalError):
            await relay.relay_once()
        assert outbox.app.process_recorder.max_tracking_id(relay.name) == created.id

        relay.states.load = load
        await drain(relay)

        published = await read_topic(outbox.bootstrap, TALLY_TOPIC, expected=2, settle_seconds=0.5)
        assert [json.loads(r.value)["amount"] for r in published] == [1, 2]
        letters = await read_topic(outbox.bootstrap, OUTBOX_DEAD_LETTERS, expected=0, timeout=1)
        assert letters == []
