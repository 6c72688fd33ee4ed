"""The inbox's Kafka consumer: batches of records, offsets committed only for what is done.

One aiokafka consumer per service process (one group member, every topic it reads).
``getmany`` hands over what has arrived (nothing is waited for once a record is
there), so under load batches grow by themselves. Offsets are committed for the
records the inbox reports done — never past one still being applied — by a background
task, off the message path: the database's tracking records are the truth, a commit
only saves re-reading after a restart. A revoked partition waits for the batch in hand
and its offsets first.

The fetch wait adapts: Tansu (the embedded broker) does not answer a waiting fetch
when a record arrives, only when its wait is over, so a long wait would add up to half
of it to every hop and a short one would poll all day. The consumer waits
``fetch_wait_busy_ms`` while messages flow (or an answer is expected) and
``fetch_wait_idle_ms`` once quiet for ``busy_linger_seconds``. Apache Kafka answers a
waiting fetch at once; there both may be long.

A service whose messages may wait a little is *paced* (``inbox_pace_seconds``): a batch
starts no sooner than that after the one before, so what arrives meanwhile is applied
together instead of in many small batches, each a fetch and a transaction.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata

from slotline.events.kafka import client_options
from slotline.events.logs import get_logger
from slotline.events.settings import ServiceSettings

log = get_logger(__name__)

REWIND_WINDOW_SECONDS = 60.0


class Record(Protocol):
    """What the inbox reads of an aiokafka ``ConsumerRecord`` (read only, so a frozen
    record made by hand, ``slotline.events.testing.records.StubRecord``, is one too)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def timestamp(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes]]: ...


class RecordSource:
    """Batches of records from every topic of a service, and their offset commits."""

    def __init__(
        self,
        topics: Sequence[str],
        settings: ServiceSettings,
        *,
        group_id: str,
        before_revoke: Callable[[], Awaitable[None]],
        max_records: int = 500,
    ) -> None:
        self.topics = list(topics)
        self.settings = settings
        self.group_id = group_id
        self.max_records = max_records
        self._before_revoke = before_revoke
        self._consumer: AIOKafkaConsumer | None = None
        self._done: dict[TopicPartition, int] = {}
        self._committed: dict[TopicPartition, int] = {}
        self._commit_wanted = asyncio.Event()
        self._committer: asyncio.Task[None] | None = None
        self._busy_until = 0.0
        self._rewind = False
        self._rewinding_until = 0.0
        self._last_batch_at = float("-inf")

    async def start(self) -> None:
        settings = self.settings
        self._consumer = AIOKafkaConsumer(
            **client_options(settings),
            group_id=self.group_id,
            client_id=f"slotline-{settings.service_name}-inbox",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=settings.kafka_fetch_wait_idle_ms,
            max_poll_records=self.max_records,
            session_timeout_ms=settings.kafka_session_timeout_ms,
            heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        )
        self._consumer.subscribe(self.topics, listener=_Revocations(self))
        await self._consumer.start()
        self._committer = asyncio.create_task(self._commit_loop(), name="inbox-offsets")

    async def stop(self) -> None:
        """Commit what is done, then leave the group."""
        if self._committer is not None:
            self._committer.cancel()
            with suppress(asyncio.CancelledError):
                await self._committer
        await self._commit_now()
        if self._consumer is not None:
            await self._consumer.stop()

    async def batch(self, timeout_ms: int = 1000) -> list[Record]:
        """The records that have arrived (at most ``max_records``), oldest first per
        partition; empty after ``timeout_ms`` of nothing."""
        assert self._consumer is not None, "start() first"
        if self._rewind:
            await self._from_the_start()
        rest = self._last_batch_at + self.settings.inbox_pace_seconds - time.monotonic()
        if rest > 0:
            await asyncio.sleep(rest)
        fetched = await self._consumer.getmany(timeout_ms=timeout_ms, max_records=self.max_records)
        records = [r for partition in fetched.values() for r in partition]
        if records:
            self._last_batch_at = time.monotonic()
            self.expect_traffic()
        self._tune_fetch_wait()
        return records

    @property
    def started(self) -> bool:
        return self._consumer is not None

    def assignment(self) -> set[tuple[str, int]]:
        """The (topic, partition) pairs this group member holds now."""
        if self._consumer is None:
            return set()
        return {(tp.topic, tp.partition) for tp in self._consumer.assignment()}

    def rewind(self) -> None:
        """The broker lost its messages (the embedded one restarted empty): read every
        partition from its start again. Positions there are new, and an old position would
        skip whatever arrived below it; what was applied before is recognised."""
        self._rewind = True
        # the group is rejoining a new coordinator meanwhile, and an old offset may still
        # be committed there: partitions assigned in the next while start from 0 too
        self._rewinding_until = time.monotonic() + REWIND_WINDOW_SECONDS

    async def _from_the_start(self) -> None:
        assert self._consumer is not None
        self._rewind = False
        await self._seek_to_beginning(self._consumer.assignment())
        log.warning("reading every partition from its start: the broker restarted empty")

    async def _seek_to_beginning(self, partitions: set[TopicPartition]) -> None:
        assert self._consumer is not None
        for tp in partitions:
            self._done.pop(tp, None)
            self._committed.pop(tp, None)
        if partitions:
            await self._consumer.seek_to_beginning(*partitions)

    async def _on_assigned(self, assigned: set[TopicPartition]) -> None:
        if time.monotonic() < self._rewinding_until:
            await self._seek_to_beginning(assigned)

    def expect_traffic(self) -> None:
        """Messages flow, or an answer is on its way: fetch with the short wait a while."""
        self._busy_until = time.monotonic() + self.settings.kafka_busy_linger_seconds
        self._tune_fetch_wait()

    def done(self, records: Sequence[Record]) -> None:
        """These records are applied (or dead-lettered): their offsets may be committed."""
        for record in records:
            tp = TopicPartition(record.topic, record.partition)
            self._done[tp] = max(self._done.get(tp, 0), record.offset + 1)
        self._commit_wanted.set()

    def _tune_fetch_wait(self) -> None:
        busy = time.monotonic() < self._busy_until
        wait = (
            self.settings.kafka_fetch_wait_busy_ms
            if busy
            else self.settings.kafka_fetch_wait_idle_ms
        )
        fetcher: Any = getattr(self._consumer, "_fetcher", None)
        if fetcher is not None:  # aiokafka reads it for every fetch request it builds
            fetcher._fetch_max_wait_ms = wait

    async def _commit_loop(self) -> None:
        while True:
            await self._commit_wanted.wait()
            self._commit_wanted.clear()
            await self._commit_now()
            await asyncio.sleep(self.settings.kafka_commit_interval_seconds)

    async def _commit_now(self) -> None:
        if self._consumer is None:
            return
        assigned = self._consumer.assignment()
        offsets = {
            tp: OffsetAndMetadata(offset, "")
            for tp, offset in self._done.items()
            if tp in assigned and self._committed.get(tp) != offset
        }
        if not offsets:
            return
        try:
            await self._consumer.commit(offsets)
        except KafkaError as error:  # e.g. during a rebalance: tracking is the truth
            log.info("offset commit skipped", error=repr(error))
            return
        for tp, meta in offsets.items():
            self._committed[tp] = meta.offset

    async def _on_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._before_revoke()
        await self._commit_now()
        for tp in revoked:
            self._done.pop(tp, None)
            self._committed.pop(tp, None)


class _Revocations(ConsumerRebalanceListener):  # type: ignore[misc]
    """Finish the batch in hand and commit before a partition moves to another member."""

    def __init__(self, source: RecordSource) -> None:
        self.source = source

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.source._on_revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info("partitions assigned", count=len(assigned))
        await self.source._on_assigned(assigned)
