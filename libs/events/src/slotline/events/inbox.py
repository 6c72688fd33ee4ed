"""Idempotent inbox: apply each consumed message's effect exactly once.

A message's effect and its tracking record are committed in one PostgreSQL
transaction (``app.save_tracked(..., tracking=tracking)`` or :func:`tracked_transaction`).
The tracking key is consumer × topic × source aggregate, its position the source
event's ``sequence``: the relay keeps one aggregate's events in order, so a
redelivered or re-published message is one whose position is already recorded.

Poison messages never stop the consumer: undecodable or invalid messages go to the
DLQ at once, a failing effect after ``max_attempts``. An unreachable database is no
poison: the inbox waits for it rather than dead-lettering healthy messages.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, cast

import anyio
from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaError
from eventsourcing.persistence import IntegrityError as TrackingConflict
from eventsourcing.persistence import (
    InterfaceError,
    OperationalError,
    ProcessRecorder,
    Tracking,
)
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from psycopg import Cursor
from psycopg.rows import DictRow
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from slotline.events.context import caused_by
from slotline.events.contract.registry import ContractViolation, parse_message
from slotline.events.dead_letters import ConsumedRecord, dead_letter
from slotline.events.envelope import Message
from slotline.events.logs import get_logger
from slotline.events.metrics import InboxMetrics

log = get_logger(__name__)

Parser = Callable[[str, bytes], Message]
"""Decodes and validates a record of a topic; raises ``ContractViolation`` when it can't."""

Effect = Callable[[Message, Tracking], None]
"""Applies a message; must commit ``tracking`` in the same transaction (runs in a thread)."""


class Rejected(Exception):
    """Raised by an effect for a message that can never succeed: dead-letter it now."""


class Outcome(enum.Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    DEAD_LETTERED = "dead_lettered"
    IGNORED = "ignored"


_INFRASTRUCTURE_ERRORS = (OperationalError, InterfaceError, ConnectionError)


def tracking_for(consumer: str, topic: str, message: Message) -> Tracking:
    """Positions are kept per source stream: tenant and aggregate, since an aggregate id
    chosen outside Slotline (a channel's request id) is unique only within its tenant."""
    source = f"{consumer}|{topic}|{message.tenant_id}|{message.aggregate_id}"
    return Tracking(source, message.sequence)


@contextmanager
def tracked_transaction(recorder: ProcessRecorder, tracking: Tracking) -> Iterator[Cursor[DictRow]]:
    """A transaction that records ``tracking``; write a read model's rows with its cursor."""
    datastore: Any = getattr(recorder, "datastore")  # noqa: B009 — postgres recorders only
    with datastore.transaction(commit=True) as cursor:
        recorder._insert_tracking(cursor, tracking)  # type: ignore[attr-defined]
        yield cursor


class Inbox:
    """Subscribes effects to topics with exactly-once application and a DLQ."""

    def __init__(
        self,
        broker: KafkaBroker,
        recorder: ProcessRecorder,
        *,
        consumer: str,
        max_attempts: int = 5,
        initial_backoff_seconds: float = 0.05,
        metrics: InboxMetrics | None = None,
        parser: Parser = parse_message,
    ) -> None:
        self.broker = broker
        self.parser = parser
        self.recorder = recorder
        self.consumer = consumer
        self.max_attempts = max_attempts
        self.initial_backoff_seconds = initial_backoff_seconds
        self.metrics = metrics

    def subscribe(self, topic: str, effect: Effect, *, group_id: str) -> None:
        """Consume ``topic`` in ``group_id``; positions are committed after each message."""
        self.subscribe_all({topic: effect}, group_id=group_id)

    def subscribe_all(
        self,
        effects: Mapping[str, Effect],
        *,
        group_id: str,
        handles: Mapping[str, frozenset[str] | None] | None = None,
    ) -> None:
        """Consume every topic of ``effects`` with one consumer in ``group_id``: one
        group member per process, so a service reading five topics joins (and
        rebalances) once, not five times."""
        topics = sorted(effects)

        @self.broker.subscriber(
            *topics,
            group_id=group_id,
            ack_policy=AckPolicy.MANUAL,
            auto_offset_reset="earliest",
            title=f"{self.consumer}:{','.join(topics)}",
        )
        async def on_record(msg: KafkaMessage) -> None:
            raw = cast(ConsumerRecord[bytes, bytes], msg.raw_message)
            record = ConsumedRecord(
                topic=raw.topic,
                partition=raw.partition,
                offset=raw.offset,
                key=raw.key,
                headers={k: v.decode(errors="replace") for k, v in (raw.headers or ())},
                value=raw.value or b"",
            )
            await self.process(record, effects[record.topic], (handles or {}).get(record.topic))
            try:
                await msg.ack()
            except KafkaError as error:  # e.g. during a rebalance: tracking is the truth
                log.info("offset commit skipped", topic=record.topic, error=repr(error))

    async def process(
        self, record: ConsumedRecord, effect: Effect, handles: frozenset[str] | None = None
    ) -> Outcome:
        """Apply one record's effect once, or dead-letter it; never raises for bad input.
        A valid message whose type is not in ``handles`` is ignored at once."""
        try:
            message = self.parser(record.topic, record.value)
        except ContractViolation as violation:
            await self._dead_letter(record, violation.reason, type(violation).__name__)
            return Outcome.DEAD_LETTERED
        if handles is not None and message.event_type not in handles:
            return Outcome.IGNORED
        tracking = tracking_for(self.consumer, record.topic, message)
        if await self._applied_yet(tracking):
            return self._duplicate(record)
        with caused_by(message.correlation_id or str(message.event_id), str(message.event_id)):
            try:
                applied = await self._apply_with_retries(record, effect, message, tracking)
            except Rejected as rejection:
                await self._dead_letter(record, str(rejection), "Rejected")
                return Outcome.DEAD_LETTERED
            except Exception as error:
                reason = f"effect failed after {self.max_attempts} attempts: {error!r}"
                await self._dead_letter(record, reason, type(error).__name__)
                return Outcome.DEAD_LETTERED
        if not applied:
            return self._duplicate(record)
        if self.metrics:
            self.metrics.processed.labels(record.topic).inc()
        return Outcome.APPLIED

    async def _apply_with_retries(
        self, record: ConsumedRecord, effect: Effect, message: Message, tracking: Tracking
    ) -> bool:
        """True when applied now, False when another delivery applied it first."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=wait_exponential(multiplier=self.initial_backoff_seconds, max=5),
            retry=retry_if_exception(lambda e: not isinstance(e, Rejected)),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                if attempt.retry_state.attempt_number > 1 and self.metrics:
                    self.metrics.retries.labels(record.topic).inc()
                try:
                    await anyio.to_thread.run_sync(effect, message, tracking)
                except (TrackingConflict, *_INFRASTRUCTURE_ERRORS):
                    # Applied by a concurrent delivery, or the database went away
                    # mid-effect: wait until it answers, then look before retrying.
                    if await self._applied_yet(tracking):
                        return False
                    raise
        return True

    async def _applied_yet(self, tracking: Tracking) -> bool:
        """Whether ``tracking`` is recorded; waits out database outages, never gives up."""
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(_INFRASTRUCTURE_ERRORS),
            wait=wait_exponential(multiplier=self.initial_backoff_seconds, max=5),
            before_sleep=lambda state: log.warning(
                "database unreachable, inbox waiting",
                error=repr(state.outcome.exception() if state.outcome else None),
            ),
        ):
            with attempt:
                return await anyio.to_thread.run_sync(self._already_applied, tracking)
        raise AssertionError("unreachable: the retry above never stops")

    def _already_applied(self, tracking: Tracking) -> bool:
        position = self.recorder.max_tracking_id(tracking.application_name)
        return position is not None and position >= tracking.notification_id

    def _duplicate(self, record: ConsumedRecord) -> Outcome:
        if self.metrics:
            self.metrics.duplicates.labels(record.topic).inc()
        return Outcome.DUPLICATE

    async def _dead_letter(self, record: ConsumedRecord, reason: str, error_type: str) -> None:
        """Publish to the DLQ, retrying until the broker takes it: never skip a record."""
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type((KafkaError, OSError)),
            wait=wait_exponential(multiplier=self.initial_backoff_seconds, max=5),
            before_sleep=lambda state: log.warning(
                "dead letter not accepted, retrying",
                error=repr(state.outcome.exception() if state.outcome else None),
            ),
        ):
            with attempt:
                await dead_letter(
                    self.broker,
                    record,
                    consumer=self.consumer,
                    reason=reason,
                    error_type=error_type,
                )
        if self.metrics:
            self.metrics.dead_lettered.labels(record.topic, error_type).inc()
