"""The idempotent inbox: each effect once, poison to the DLQ, the consumer goes on."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError as TrackingConflict
from eventsourcing.persistence import Tracking
from faststream.kafka import KafkaBroker
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from slotline.events.dead_letters import ConsumedRecord
from slotline.events.envelope import Message
from slotline.events.inbox import Inbox, Outcome, Rejected, tracked_transaction
from slotline.events.kafka import build_broker
from slotline.events.settings import ServiceSettings
from slotline.events.store import event_meta
from slotline.events.testing.reading import eventually, read_topic
from slotline.events.testing.tally import (
    TALLY_TOPIC,
    Credit,
    TallyCounted,
    TallyLedger,
    parse_tally,
)
from slotline.events.topics import dead_letter_topic

pytestmark = pytest.mark.integration


def counted(source: str, sequence: int, amount: int = 1) -> TallyCounted:
    return TallyCounted(
        tenant_id="test", aggregate_id=source, sequence=sequence, amount=amount, total=0
    )


def record_of(message: Message | bytes, offset: int = 0) -> ConsumedRecord:
    value = message if isinstance(message, bytes) else message.to_json()
    return ConsumedRecord(TALLY_TOPIC, 0, offset, b"k", {"h": "v"}, value)


def credits(ledger: TallyLedger, source: str) -> list[int]:
    credit: Credit = ledger.repository.get(Credit.create_id(source))
    return credit.amounts


@pytest.fixture
def inbox(producer_broker: KafkaBroker, ledger: TallyLedger) -> Inbox:
    return Inbox(
        producer_broker,
        ledger.process_recorder,
        consumer="ledger",
        max_attempts=3,
        initial_backoff_seconds=0.01,
        parser=parse_tally,
    )


class TestExactlyOnce:
    async def test_a_redelivered_message_is_recognised_and_skipped(
        self, inbox: Inbox, ledger: TallyLedger
    ) -> None:
        message = counted("tally-1", sequence=2, amount=7)
        assert await inbox.process(record_of(message, 0), ledger.apply_count) is Outcome.APPLIED
        assert await inbox.process(record_of(message, 5), ledger.apply_count) is Outcome.DUPLICATE
        assert credits(ledger, "tally-1") == [7]

    async def test_a_type_the_subscriber_does_not_handle_is_ignored_and_changes_nothing(
        self, inbox: Inbox, ledger: TallyLedger
    ) -> None:
        message = counted("tally-2", sequence=2, amount=3)
        only_others = frozenset({"SomethingElse"})
        record = record_of(message)
        assert await inbox.process(record, ledger.apply_count, only_others) is Outcome.IGNORED
        assert ledger.get_many([Credit.create_id("tally-2")]) == {}, "nothing was credited"
        handled = frozenset({message.event_type})
        assert await inbox.process(record, ledger.apply_count, handled) is Outcome.APPLIED
        assert credits(ledger, "tally-2") == [3]

    async def test_the_same_sequence_from_another_source_is_not_a_duplicate(
        self, inbox: Inbox, ledger: TallyLedger
    ) -> None:
        for source in ("a", "b"):
            outcome = await inbox.process(record_of(counted(source, 2)), ledger.apply_count)
            assert outcome is Outcome.APPLIED
        assert credits(ledger, "a") == credits(ledger, "b") == [1]


class TestPoisonMessages:
    async def test_undecodable_and_invalid_messages_are_dead_lettered_with_their_reason(
        self, inbox: Inbox, ledger: TallyLedger, kafka_bootstrap: str
    ) -> None:
        not_json = record_of(b"{not json", offset=1)
        missing_field = record_of(
            json.dumps({"event_type": "TallyCounted", "schema_version": 1}).encode(), offset=2
        )
        assert await inbox.process(not_json, ledger.apply_count) is Outcome.DEAD_LETTERED
        assert await inbox.process(missing_field, ledger.apply_count) is Outcome.DEAD_LETTERED

        letters = await read_topic(kafka_bootstrap, dead_letter_topic(TALLY_TOPIC), expected=2)
        bodies = [json.loads(r.value) for r in letters]
        assert [b["original_payload"] for b in bodies] == [
            "{not json",
            missing_field.value.decode(),
        ]
        assert "not JSON" in bodies[0]["reason"]
        assert "tenant_id" in bodies[1]["reason"]  # names the missing field
        assert all(b["original_headers"] == {"h": "v"} for b in bodies)
        assert bodies[0]["original_offset"] == 1
        assert bodies[0]["consumer"] == "ledger"

    async def test_an_effect_that_keeps_failing_is_dead_lettered_after_its_attempts(
        self, inbox: Inbox, ledger: TallyLedger, kafka_bootstrap: str
    ) -> None:
        attempts: list[int] = []

        def broken(message: Message, tracking: Tracking) -> None:
            attempts.append(1)
            raise RuntimeError("downstream bug")

        outcome = await inbox.process(record_of(counted("x", 2)), broken)

        assert outcome is Outcome.DEAD_LETTERED
        assert len(attempts) == 3
        [letter] = await read_topic(kafka_bootstrap, dead_letter_topic(TALLY_TOPIC), expected=1)
        body = json.loads(letter.value)
        assert "after 3 attempts" in body["reason"]
        assert "downstream bug" in body["reason"]
        assert body["error_type"] == "RuntimeError"

    async def test_a_rejected_message_is_dead_lettered_without_retries(self, inbox: Inbox) -> None:
        attempts: list[int] = []

        def refuse(message: Message, tracking: Tracking) -> None:
            attempts.append(1)
            raise Rejected("tenant unknown")

        assert await inbox.process(record_of(counted("y", 2)), refuse) is Outcome.DEAD_LETTERED
        assert attempts == [1]


class TestConsumerOverKafka:
    @pytest.fixture
    async def consumer_broker(
        self, settings: ServiceSettings, ledger: TallyLedger, tally_topics: str
    ) -> AsyncIterator[KafkaBroker]:
        broker = build_broker(settings)
        Inbox(
            broker,
            ledger.process_recorder,
            consumer="ledger",
            max_attempts=2,
            initial_backoff_seconds=0.01,
            parser=parse_tally,
        ).subscribe(TALLY_TOPIC, ledger.apply_count, group_id="ledger-test")
        await broker.start()
        yield broker
        await broker.stop()

    async def test_a_malformed_message_goes_to_the_dlq_and_the_next_good_one_is_applied(
        self,
        consumer_broker: KafkaBroker,
        producer_broker: KafkaBroker,
        ledger: TallyLedger,
        kafka_bootstrap: str,
    ) -> None:
        await producer_broker.publish(b"\x00garbage", topic=TALLY_TOPIC, key=b"t")
        for message in (counted("t", 2, 3), counted("t", 2, 3), counted("t", 3, 4)):
            await producer_broker.publish(message.to_json(), topic=TALLY_TOPIC, key=b"t")

        def applied() -> bool:  # same key, same partition: the duplicate lies in between
            try:
                return credits(ledger, "t") == [3, 4]
            except Exception:
                return False

        await eventually(applied)
        [letter] = await read_topic(kafka_bootstrap, dead_letter_topic(TALLY_TOPIC), expected=1)
        assert json.loads(letter.value)["original_payload"].endswith("garbage")

    async def test_the_consumer_continues_the_producers_trace_in_what_it_stores(
        self,
        consumer_broker: KafkaBroker,
        producer_broker: KafkaBroker,
        ledger: TallyLedger,
        span_exporter: InMemorySpanExporter,
    ) -> None:
        tracer = trace.get_tracer("test")
        with tracer.start_as_current_span("request") as span:
            await producer_broker.publish(
                counted("traced", 2).to_json(), topic=TALLY_TOPIC, key=b"traced"
            )
        trace_id = format(span.get_span_context().trace_id, "032x")

        def stored() -> list[Any]:
            try:
                return list(ledger.events.get(Credit.create_id("traced")))
            except Exception:
                return []

        await eventually(lambda: len(stored()) == 2)
        credited = stored()[-1]
        assert event_meta(credited)["traceparent"].split("-")[1] == trace_id
        consumer_spans = [
            s
            for s in span_exporter.get_finished_spans()
            if s.context.trace_id == span.get_span_context().trace_id and s.name != "request"
        ]
        assert consumer_spans, "FastStream's consumer span joins the producer's trace"


class TestReadModelEffects:
    def test_a_read_model_row_and_its_tracking_commit_together_once(
        self, ledger: TallyLedger
    ) -> None:
        recorder = ledger.process_recorder
        tracking = Tracking("ledger|view|tally-9", 4)
        with tracked_transaction(recorder, tracking) as cursor:
            cursor.execute("CREATE TABLE IF NOT EXISTS consumer.seen (n int)")
            cursor.execute("INSERT INTO consumer.seen VALUES (4)")

        with pytest.raises(TrackingConflict), tracked_transaction(recorder, tracking) as cursor:
            cursor.execute("INSERT INTO consumer.seen VALUES (4)")

        with tracked_transaction(recorder, Tracking("ledger|view|other", 1)) as cursor:
            cursor.execute("SELECT count(*) AS n FROM consumer.seen")
            row = cursor.fetchone()
        assert row is not None
        assert row["n"] == 1  # the redelivery wrote nothing
