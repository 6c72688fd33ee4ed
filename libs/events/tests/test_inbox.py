"""The idempotent inbox: each effect once, many per transaction, poison to the DLQ,
one key's messages in order, and the consumer goes on."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Collection, Sequence
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError as TrackingConflict
from eventsourcing.persistence import Tracking
from faststream.kafka import KafkaBroker
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from psycopg import Cursor
from psycopg.rows import DictRow

from slotline.events.contract.availability import HoldConfirmed, HoldPlaced
from slotline.events.contract.registry import parse_message
from slotline.events.envelope import Message
from slotline.events.inbox import Identity, Inbox, Outcome, Rejected, Subscription
from slotline.events.settings import ServiceSettings
from slotline.events.store import event_meta
from slotline.events.testing.reading import eventually, read_topic
from slotline.events.testing.records import StubRecord, records_of
from slotline.events.testing.samples import sample
from slotline.events.testing.tally import (
    TALLY_TOPIC,
    Credit,
    TallyCounted,
    TallyLedger,
    parse_tally,
)
from slotline.events.topics import AVAILABILITY_EVENTS, dead_letter_topic
from slotline.events.unit_of_work import UnitOfWork
from slotline.events.wire_sealing import LETTER_TYPE, open_fields

pytestmark = pytest.mark.integration


def counted(source: str, sequence: int, amount: int = 1) -> TallyCounted:
    return TallyCounted(
        tenant_id="test", aggregate_id=source, sequence=sequence, amount=amount, total=0
    )


def credits(ledger: TallyLedger, source: str) -> list[int]:
    credit: Credit = ledger.repository.get(Credit.create_id(source))
    return credit.amounts


def make_inbox(
    ledger: TallyLedger,
    broker: KafkaBroker,
    settings: ServiceSettings,
    handler: Any = None,
    identity: Identity = Identity.STREAM,
) -> Inbox:
    quick = settings.model_copy(
        update={"inbox_max_attempts": 3, "inbox_retry_initial_seconds": 0.01}
    )
    inbox = Inbox(ledger, broker, quick, consumer="ledger", parser=parse_tally)
    chosen = handler or ledger.credit_count
    inbox.subscribe(Subscription(TALLY_TOPIC, {TallyCounted: chosen}, identity=identity))
    return inbox


@pytest.fixture
def inbox(producer_broker: KafkaBroker, ledger: TallyLedger, settings: ServiceSettings) -> Inbox:
    return make_inbox(ledger, producer_broker, settings)


async def outcomes(inbox: Inbox, messages: Sequence[Message | bytes]) -> list[Outcome | None]:
    return [d.outcome for d in await inbox.apply(records_of(TALLY_TOPIC, messages))]


class TestExactlyOnce:
    async def test_a_redelivered_message_is_recognised_and_skipped(
        self, inbox: Inbox, ledger: TallyLedger
    ) -> None:
        message = counted("tally-1", sequence=2, amount=7)
        assert await outcomes(inbox, [message]) == [Outcome.APPLIED]
        assert await outcomes(inbox, [message]) == [Outcome.DUPLICATE]
        assert credits(ledger, "tally-1") == [7]

    async def test_a_repeat_inside_one_batch_is_applied_once(
        self, inbox: Inbox, ledger: TallyLedger
    ) -> None:
        first, second = counted("tally-r", 2, 5), counted("tally-r", 3, 6)
        result = await outcomes(inbox, [first, first, second, first])
        assert result == [Outcome.APPLIED, Outcome.DUPLICATE, Outcome.APPLIED, Outcome.DUPLICATE]
        assert credits(ledger, "tally-r") == [5, 6]

    async def test_the_same_sequence_from_another_source_is_not_a_duplicate(
        self, inbox: Inbox, ledger: TallyLedger
    ) -> None:
        assert await outcomes(inbox, [counted("a", 2), counted("b", 2)]) == [Outcome.APPLIED] * 2
        assert credits(ledger, "a") == credits(ledger, "b") == [1]

    async def test_a_type_the_subscriber_has_no_handler_for_is_ignored(
        self, ledger: TallyLedger, producer_broker: KafkaBroker, settings: ServiceSettings
    ) -> None:
        inbox = Inbox(ledger, producer_broker, settings, consumer="ledger", parser=parse_tally)
        inbox.subscribe(Subscription(TALLY_TOPIC, {}))
        assert await outcomes(inbox, [counted("tally-2", 2)]) == [Outcome.IGNORED]
        assert ledger.get_many([Credit.create_id("tally-2")]) == {}, "nothing was credited"


class TestMessagesFromOutside:
    """A channel cannot know a stream position: its messages are known by their own id."""

    async def test_two_requests_about_one_aggregate_with_the_same_sequence_both_apply(
        self, ledger: TallyLedger, producer_broker: KafkaBroker, settings: ServiceSettings
    ) -> None:
        inbox = make_inbox(ledger, producer_broker, settings, identity=Identity.MESSAGE)
        move, cancel = counted("booking-1", 1, amount=1), counted("booking-1", 1, amount=2)
        assert await outcomes(inbox, [move]) == [Outcome.APPLIED]
        assert await outcomes(inbox, [cancel]) == [Outcome.APPLIED], "not a duplicate of move"
        assert await outcomes(inbox, [cancel]) == [Outcome.DUPLICATE], "its own redelivery is"
        assert credits(ledger, "booking-1") == [1, 2]


class TestMessagesNoHandlerTakes:
    """A record whose headers name a message no handler takes is acknowledged undecoded;
    the body stays the authority for everything handled."""

    async def test_are_passed_by_without_decoding_when_their_headers_name_them(
        self, ledger: TallyLedger, producer_broker: KafkaBroker, settings: ServiceSettings
    ) -> None:
        decoded: list[bytes] = []
        taken: list[Message] = []

        def parser(topic: str, raw: bytes) -> Message:
            decoded.append(raw)
            return parse_message(topic, raw)

        inbox = Inbox(ledger, producer_broker, settings, consumer="ledger", parser=parser)
        inbox.subscribe(
            Subscription(AVAILABILITY_EVENTS, {HoldConfirmed: lambda m, _: taken.append(m)})
        )
        confirmed, placed = sample(HoldConfirmed), sample(HoldPlaced)
        assert isinstance(confirmed, HoldConfirmed)
        assert isinstance(placed, HoldPlaced)

        def named(message: Message, *, offset: int, headers: bool = True) -> StubRecord:
            sent = [(k, v.encode()) for k, v in message.record_headers().items()]
            return StubRecord(
                AVAILABILITY_EVENTS,
                message.to_json(),
                message.aggregate_id.encode(),
                offset=offset,
                headers=sent if headers else (),
            )

        records = [
            named(placed, offset=0),  # named, and no handler takes it: not decoded
            named(confirmed, offset=1),
            named(placed, offset=2, headers=False),  # no headers: decoded to know it
        ]
        outcomes = [d.outcome for d in await inbox.apply(records)]
        assert outcomes == [
            Outcome.APPLIED if r is records[1] else Outcome.IGNORED for r in records
        ]
        assert decoded == [records[1].value, records[2].value]
        assert taken == [confirmed]


class TestGroupCommit:
    async def test_a_batch_is_applied_in_one_unit_of_work(
        self, ledger: TallyLedger, producer_broker: KafkaBroker, settings: ServiceSettings
    ) -> None:
        works: list[UnitOfWork] = []

        def credit(message: TallyCounted, work: UnitOfWork) -> None:
            works.append(work)
            ledger.credit_count(message, work)

        inbox = make_inbox(ledger, producer_broker, settings, credit)
        batch = [counted(f"g-{n % 3}", 2 + n // 3, amount=n) for n in range(9)]
        assert await outcomes(inbox, batch) == [Outcome.APPLIED] * 9
        assert len({id(w) for w in works}) == 1, "one transaction for the whole batch"
        assert credits(ledger, "g-0") == [0, 3, 6]

    async def test_what_a_batch_reads_is_loaded_in_one_query(
        self,
        ledger: TallyLedger,
        producer_broker: KafkaBroker,
        settings: ServiceSettings,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        sources = [f"p-{n}" for n in range(6)]
        await outcomes(
            make_inbox(ledger, producer_broker, settings),
            [counted(source, 2) for source in sources],
        )
        loads: list[list[UUID]] = []
        load_many = ledger.load_many

        def counting(
            ids: Collection[UUID], cursor: Cursor[DictRow] | None = None, *, take: bool = False
        ) -> dict[UUID, Any]:
            loads.append(list(ids))
            return load_many(ids, cursor=cursor, take=take)

        monkeypatch.setattr(ledger, "load_many", counting)
        inbox = Inbox(ledger, producer_broker, settings, consumer="ledger", parser=parse_tally)
        inbox.subscribe(
            Subscription(
                TALLY_TOPIC,
                {TallyCounted: ledger.credit_count},
                reads=lambda m: [Credit.create_id(m.aggregate_id)],
            )
        )
        batch = [counted(source, 3, amount=5) for source in sources]
        assert await outcomes(inbox, batch) == [Outcome.APPLIED] * 6
        assert loads == [[Credit.create_id(s) for s in sources]], "one query, not six"
        assert all(credits(ledger, s) == [1, 5] for s in sources)

    async def test_a_message_whose_reads_fail_is_still_applied_by_its_handler(
        self, ledger: TallyLedger, producer_broker: KafkaBroker, settings: ServiceSettings
    ) -> None:
        def unreadable(message: TallyCounted) -> list[UUID]:
            raise ValueError("no ids in this one")

        inbox = Inbox(ledger, producer_broker, settings, consumer="ledger", parser=parse_tally)
        inbox.subscribe(
            Subscription(TALLY_TOPIC, {TallyCounted: ledger.credit_count}, reads=unreadable)
        )
        assert await outcomes(inbox, [counted("q-1", 2, 4)]) == [Outcome.APPLIED]
        assert credits(ledger, "q-1") == [4]

    async def test_a_failing_handler_costs_its_neighbours_nothing_and_keeps_its_keys_order(
        self,
        ledger: TallyLedger,
        producer_broker: KafkaBroker,
        settings: ServiceSettings,
        kafka_bootstrap: str,
    ) -> None:
        failures = {"flaky": 1, "broken": 99}

        def credit(message: TallyCounted, work: UnitOfWork) -> None:
            key = message.aggregate_id
            if message.amount == 1 and failures.get(key, 0) > 0:
                failures[key] -= 1
                raise RuntimeError(f"{key} failed")
            ledger.credit_count(message, work)

        inbox = make_inbox(ledger, producer_broker, settings, credit)
        batch = [
            counted("flaky", 2, 1),
            counted("fine", 2, 1),
            counted("flaky", 3, 2),
            counted("broken", 2, 1),
            counted("broken", 3, 2),
            counted("fine", 3, 2),
        ]
        result = await outcomes(inbox, batch)
        assert result == [
            Outcome.APPLIED,
            Outcome.APPLIED,
            Outcome.APPLIED,
            Outcome.DEAD_LETTERED,
            Outcome.APPLIED,
            Outcome.APPLIED,
        ]
        assert credits(ledger, "flaky") == [1, 2], "retried, and its key waited for it"
        assert credits(ledger, "fine") == [1, 2]
        assert credits(ledger, "broken") == [2], "the consumer goes on past a dead letter"
        [letter] = await read_topic(kafka_bootstrap, dead_letter_topic(TALLY_TOPIC), expected=1)
        body = json.loads(letter.value)
        assert "after 3 attempts" in body["reason"]
        assert "broken failed" in body["reason"]
        assert body["error_type"] == "RuntimeError"


class TestPoisonMessages:
    async def test_a_dead_letter_keeps_no_personal_data_in_clear(
        self, inbox: Inbox, kafka_bootstrap: str
    ) -> None:
        """Issue 17.9: a refused record's personal-looking fields are sealed in its
        letter (the tenant's wire key opens them for a redrive), removed without a tenant."""
        tenant = f"dlq-{uuid4().hex[:8]}"
        refused = {
            "event_type": "TallyCounted",
            "schema_version": 1,
            "tenant_id": tenant,
            "contact": {"name": "Ana Personal", "phone": "+306912345670"},
            "authorization": "manage-token-that-must-not-leak",
        }
        anonymous = {"event_type": "TallyCounted", "notes": "call me on +306912345671"}
        result = await outcomes(
            inbox, [json.dumps(refused).encode(), json.dumps(anonymous).encode()]
        )
        assert result == [Outcome.DEAD_LETTERED, Outcome.DEAD_LETTERED]
        letters = await read_topic(kafka_bootstrap, dead_letter_topic(TALLY_TOPIC), expected=2)
        mine = [json.loads(r.value) for r in letters if TallyCounted.EVENT_TYPE.encode() in r.value]
        kept = " ".join(json.dumps(letter) for letter in mine)
        for secret in ("Ana Personal", "306912345670", "must-not-leak", "306912345671"):
            assert secret not in kept
        sealed = next(
            json.loads(m["original_payload"]) for m in mine if tenant in m["original_payload"]
        )
        opened = open_fields(sealed, LETTER_TYPE, ("contact", "authorization"))
        assert opened["contact"] == refused["contact"]
        assert opened["authorization"] == refused["authorization"]

    async def test_undecodable_and_invalid_messages_are_dead_lettered_with_their_reason(
        self, inbox: Inbox, ledger: TallyLedger, kafka_bootstrap: str
    ) -> None:
        not_json = b"{not json"
        missing_field = json.dumps({"event_type": "TallyCounted", "schema_version": 1}).encode()
        good = counted("after-poison", 2)
        result = await outcomes(inbox, [not_json, missing_field, good])
        assert result == [Outcome.DEAD_LETTERED, Outcome.DEAD_LETTERED, Outcome.APPLIED]

        letters = await read_topic(kafka_bootstrap, dead_letter_topic(TALLY_TOPIC), expected=2)
        bodies = [json.loads(r.value) for r in letters]
        assert [b["original_payload"] for b in bodies] == ["{not json", missing_field.decode()]
        assert "not JSON" in bodies[0]["reason"]
        assert "tenant_id" in bodies[1]["reason"]  # names the missing field
        assert all(b["original_headers"] == {"h": "v"} for b in bodies)
        assert bodies[1]["original_offset"] == 1
        assert bodies[0]["consumer"] == "ledger"
        assert credits(ledger, "after-poison") == [1]

    async def test_a_rejected_message_is_dead_lettered_without_retries(
        self, ledger: TallyLedger, producer_broker: KafkaBroker, settings: ServiceSettings
    ) -> None:
        attempts: list[int] = []

        def refuse(message: TallyCounted, work: UnitOfWork) -> None:
            attempts.append(1)
            raise Rejected("tenant unknown")

        inbox = make_inbox(ledger, producer_broker, settings, refuse)
        assert await outcomes(inbox, [counted("y", 2)]) == [Outcome.DEAD_LETTERED]
        assert attempts == [1]


class TestConsumerOverKafka:
    @pytest.fixture
    async def running_inbox(
        self,
        settings: ServiceSettings,
        ledger: TallyLedger,
        producer_broker: KafkaBroker,
        tally_topics: str,
    ) -> AsyncIterator[Inbox]:
        inbox = make_inbox(
            ledger,
            producer_broker,
            settings.model_copy(update={"kafka_group_id": "ledger-test"}),
        )
        await inbox.start()
        task = asyncio.create_task(inbox.run())
        yield inbox
        inbox.stop()
        await task
        await inbox.close()

    async def test_a_malformed_message_goes_to_the_dlq_and_the_next_good_one_is_applied(
        self,
        running_inbox: Inbox,
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
        running_inbox: Inbox,
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
        assert f"{TALLY_TOPIC} process" in [s.name for s in consumer_spans]


class PacedInbox(Inbox):
    """Notes the size of each batch it applies."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sizes: list[int] = []

    async def apply(self, records: Sequence[Any]) -> list[Any]:
        self.sizes.append(len(records))
        return await super().apply(records)


class TestPacedConsumer:
    """``inbox_pace_seconds``: what arrives while a paced inbox rests after a batch is
    applied together, and a message after a quiet spell at once."""

    PACE_SECONDS = 3.0
    """Long enough for twenty publishes 30 ms apart on a busy machine."""

    async def test_what_arrives_while_it_rests_comes_in_few_batches(
        self,
        settings: ServiceSettings,
        ledger: TallyLedger,
        producer_broker: KafkaBroker,
        tally_topics: str,
    ) -> None:
        paced = settings.model_copy(
            update={"kafka_group_id": f"paced-{uuid4()}", "inbox_pace_seconds": self.PACE_SECONDS}
        )
        inbox = PacedInbox(ledger, producer_broker, paced, consumer="paced", parser=parse_tally)
        inbox.subscribe(Subscription(TALLY_TOPIC, {TallyCounted: ledger.credit_count}))
        run = uuid4().hex[:8]

        async def publish(source: str) -> None:
            message = counted(f"{run}-{source}", 1)
            await producer_broker.publish(message.to_json(), topic=TALLY_TOPIC, key=source.encode())

        def applied(*sources: str) -> bool:
            try:
                return all(credits(ledger, f"{run}-{s}") == [1] for s in sources)
            except Exception:
                return False

        await inbox.start()
        task = asyncio.create_task(inbox.run())
        try:
            await publish("backlog-end")  # a new group reads the topic from its start
            await eventually(lambda: applied("backlog-end"), timeout=60)
            await asyncio.sleep(self.PACE_SECONDS)  # a quiet spell
            before = len(inbox.sizes)

            await publish("alone")
            await eventually(lambda: applied("alone"), timeout=30)
            assert inbox.sizes[before:] == [1], "after a quiet spell a message is not held"

            sources = [f"burst-{i}" for i in range(20)]
            for source in sources:
                await publish(source)
                await asyncio.sleep(0.03)
            await eventually(lambda: applied(*sources), timeout=60)
            burst = inbox.sizes[before + 1 :]
            assert sum(burst) == 20
            assert len(burst) <= 3, f"twenty messages in {len(burst)} batches: {burst}"
        finally:
            inbox.stop()
            await task
            await inbox.close()


class TestReadModelEffects:
    def test_a_read_model_row_and_its_tracking_commit_together_once(
        self, ledger: TallyLedger
    ) -> None:
        tracking = Tracking("ledger|view|tally-9", 4)

        def see() -> None:
            with ledger.unit_of_work() as work:
                work.track(tracking)
                work.cursor.execute("CREATE TABLE IF NOT EXISTS consumer.seen (n int)")
                work.cursor.execute("INSERT INTO consumer.seen VALUES (4)")

        see()
        with pytest.raises(TrackingConflict):
            see()

        with ledger.reading() as cursor:
            cursor.execute("SELECT count(*) AS n FROM consumer.seen")
            row = cursor.fetchone()
        assert row is not None
        assert row["n"] == 1  # the redelivery wrote nothing

    async def test_a_handlers_rows_commit_with_its_batch(
        self, ledger: TallyLedger, producer_broker: KafkaBroker, settings: ServiceSettings
    ) -> None:
        with ledger.sql_recorder.transaction() as cursor:
            cursor.execute("CREATE TABLE IF NOT EXISTS consumer.seen_rows (source text)")

        def note(message: TallyCounted, work: UnitOfWork) -> None:
            work.cursor.execute(
                "INSERT INTO consumer.seen_rows VALUES (%s)", (message.aggregate_id,)
            )

        inbox = make_inbox(ledger, producer_broker, settings, note)
        batch = [counted("row-a", 2), counted("row-b", 2)]
        assert await outcomes(inbox, batch) == [Outcome.APPLIED] * 2
        assert await outcomes(inbox, batch) == [Outcome.DUPLICATE] * 2
        with ledger.reading() as cursor:
            cursor.execute("SELECT source FROM consumer.seen_rows ORDER BY source")
            assert [r["source"] for r in cursor.fetchall()] == ["row-a", "row-b"]
