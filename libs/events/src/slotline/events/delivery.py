"""One consumed record on its way through the inbox, and what became of it."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from uuid import UUID

from aiokafka.errors import KafkaError
from eventsourcing.persistence import Tracking
from faststream.kafka import KafkaBroker
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential

from slotline.events.consumer import Record
from slotline.events.context import caused_by
from slotline.events.dead_letters import ConsumedRecord, dead_letter
from slotline.events.envelope import Message
from slotline.events.logs import get_logger
from slotline.events.metrics import InboxMetrics
from slotline.events.subscription import Handler, Reads, Refusal
from slotline.events.unit_of_work import UnitOfWork

tracer = trace.get_tracer("slotline.events.inbox")
log = get_logger("slotline.events.inbox")


class Outcome(enum.Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    DEAD_LETTERED = "dead_lettered"
    IGNORED = "ignored"


@dataclass
class Delivery:
    """One record of a batch and what became of it."""

    record: Record
    message: Message | None = None
    handler: Handler | None = None
    refused: Refusal | None = None
    reads: Reads | None = None
    tracking: Tracking | None = None
    outcome: Outcome | None = None
    reason: str = ""
    error_type: str = ""

    @property
    def key(self) -> tuple[str, int, bytes | None]:
        return (self.record.topic, self.record.partition, self.record.key)

    def consumed(self) -> ConsumedRecord:
        record = self.record
        return ConsumedRecord(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            headers={k: v.decode(errors="replace") for k, v in (record.headers or ())},
            value=record.value or b"",
        )

    def dead(self, reason: str, error_type: str) -> None:
        self.outcome, self.reason, self.error_type = Outcome.DEAD_LETTERED, reason, error_type

    @contextmanager
    def context(self) -> Iterator[None]:
        """The message's trace (from its headers) and causal context."""
        message = self.message
        assert message is not None
        carrier = {k: v.decode(errors="replace") for k, v in (self.record.headers or ())}
        token = otel_context.attach(propagate.extract(carrier))
        try:
            with (
                tracer.start_as_current_span(
                    f"{self.record.topic} process",
                    kind=trace.SpanKind.CONSUMER,
                    attributes={
                        "messaging.system": "kafka",
                        "messaging.destination.name": self.record.topic,
                        "messaging.message.id": str(message.event_id),
                        "slotline.event_type": message.event_type,
                    },
                ),
                caused_by(message.correlation_id or str(message.event_id), str(message.event_id)),
            ):
                yield
        finally:
            otel_context.detach(token)


def mark_duplicates(
    positions_of: Callable[[list[str]], dict[str, int]], group: list[Delivery]
) -> None:
    """Mark what was applied before — recorded (``positions_of`` reads the recorded
    positions, in the unit of work's own transaction), or earlier in this same batch."""
    live = [d for d in group if d.outcome is None and d.tracking is not None]
    positions = positions_of(list({d.tracking.application_name for d in live if d.tracking}))
    for delivery in live:
        assert delivery.tracking is not None
        name, position = delivery.tracking.application_name, delivery.tracking.notification_id
        if positions.get(name, 0) >= position:
            delivery.outcome = Outcome.DUPLICATE
        else:
            positions[name] = position


def count_outcomes(metrics: InboxMetrics | None, deliveries: Sequence[Delivery]) -> None:
    """Count a batch and its outcomes by topic."""
    if metrics is None:
        return
    metrics.batch_size.observe(len(deliveries))
    for delivery in deliveries:
        topic = delivery.record.topic
        match delivery.outcome:
            case Outcome.APPLIED:
                metrics.processed.labels(topic).inc()
            case Outcome.DUPLICATE:
                metrics.duplicates.labels(topic).inc()
            case Outcome.DEAD_LETTERED:
                metrics.dead_lettered.labels(topic, delivery.error_type).inc()
            case _:
                pass


def prefetch(work: UnitOfWork, batch: Sequence[Delivery]) -> None:
    """Load every aggregate the batch's handlers will read in one query. Only a hint:
    a message whose ids cannot be worked out is left to its handler, which says why."""
    wanted: list[UUID] = []
    for delivery in batch:
        if delivery.reads is not None and delivery.message is not None:
            try:
                wanted.extend(delivery.reads(delivery.message))
            except Exception as error:  # the handler meets (and reports) the same fault
                log.debug("no prefetch for a message", error=repr(error))
    if wanted:
        work.get_many(wanted)


async def dead_letter_until_taken(
    broker: KafkaBroker, delivery: Delivery, consumer: str, backoff_seconds: float
) -> None:
    """Publish to the DLQ, retrying until the broker takes it: never skip a record."""
    async for attempt in AsyncRetrying(
        retry=retry_if_exception_type((KafkaError, OSError)),
        wait=wait_exponential(multiplier=backoff_seconds, max=5),
        before_sleep=lambda state: log.warning(
            "dead letter not accepted, retrying",
            error=repr(state.outcome.exception() if state.outcome else None),
        ),
    ):
        with attempt:
            await dead_letter(
                broker,
                delivery.consumed(),
                consumer=consumer,
                reason=delivery.reason,
                error_type=delivery.error_type,
            )
