"""Idempotent inbox: apply each consumed message's effect exactly once, many per transaction.

The inbox takes the records that have arrived (a batch), decodes them (a record whose
headers name a message no handler takes is acknowledged undecoded), looks up every
tracking position in one query, and applies the new ones' handlers in order in **one
unit of work**: their effects, their positions and their new events commit together
(a group commit). A handler that raises is set aside with every later message of its
key, the group is redone without them, and they are then applied one by one with
retries — so one key's messages keep their order and one bad message costs its
neighbours a redo, not their effect. A lost race with another writer redoes the group
on fresh state. Offsets are committed only for records that are done.

Positions: a message written by a Slotline relay is known by its source stream and
``sequence`` (the relay keeps one aggregate's events in order). A message written
*outside* Slotline (a channel's request) is known by its own ``event_id``: a sender
cannot know a stream position, so a second request about the same booking is a new
message, never a "duplicate" of the first (:class:`Identity`).

Poison never stops the consumer: undecodable or invalid records go to the topic's DLQ
at once, a handler's :class:`Rejected` too, and a handler that keeps failing after
``max_attempts``. An unreachable database is no poison: the inbox waits for it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import TypeVar

import anyio
from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
)
from faststream.kafka import KafkaBroker
from opentelemetry import trace
from tenacity import (
    AsyncRetrying,
    Retrying,
    retry_if_exception,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from slotline.events.consumer import Record, RecordSource
from slotline.events.contract.registry import (
    ContractViolation,
    announced_class,
    parse_message,
)
from slotline.events.delivery import (
    Delivery,
    Outcome,
    count_outcomes,
    dead_letter_until_taken,
    mark_duplicates,
    prefetch,
)
from slotline.events.envelope import Message
from slotline.events.logs import get_logger
from slotline.events.metrics import InboxMetrics
from slotline.events.settings import ServiceSettings
from slotline.events.store import ServiceApplication
from slotline.events.subscription import (
    Announced,
    Handler,
    Identity,
    Parser,
    Reads,
    Refusal,
    Rejected,
    Subscription,
    tracking_for,
)

__all__ = [
    "Delivery",
    "Handler",
    "Identity",
    "Inbox",
    "Outcome",
    "Parser",
    "Reads",
    "Refusal",
    "Rejected",
    "Subscription",
    "tracking_for",
]

log = get_logger(__name__)
tracer = trace.get_tracer(__name__)

M = TypeVar("M", bound=Message)

_INFRASTRUCTURE_ERRORS = (OperationalError, InterfaceError, ConnectionError)
_NOT_RETRIED = (Rejected, *_INFRASTRUCTURE_ERRORS)


class _HandlerFailed(Exception):
    def __init__(self, delivery: Delivery, error: Exception) -> None:
        super().__init__(str(error))
        self.delivery = delivery
        self.error = error


class Inbox:
    """Consumes a service's topics and applies each message once (see the module doc)."""

    def __init__(
        self,
        app: ServiceApplication,
        broker: KafkaBroker,
        settings: ServiceSettings,
        *,
        consumer: str | None = None,
        metrics: InboxMetrics | None = None,
        parser: Parser = parse_message,
        announced: Announced | None = announced_class,
    ) -> None:
        self.app = app
        self.broker = broker
        self.settings = settings
        self.consumer = consumer or settings.service_name
        self.metrics = metrics
        self.parser = parser
        self.announced = announced
        self.max_attempts = settings.inbox_max_attempts
        self.initial_backoff_seconds = settings.inbox_retry_initial_seconds
        self.subscriptions: dict[str, Subscription] = {}
        self.source: RecordSource | None = None
        self.name = "inbox"
        self._stopping = asyncio.Event()
        self._batch_lock = asyncio.Lock()

    def subscribe(self, subscription: Subscription) -> None:
        if subscription.topic in self.subscriptions:
            raise ValueError(f"{subscription.topic} is subscribed twice")
        self.subscriptions[subscription.topic] = subscription

    # --- the consumer loop (a background task of the runtime) --------------------------

    async def start(self) -> None:
        self.source = RecordSource(
            sorted(self.subscriptions),
            self.settings,
            group_id=self.settings.group_id,
            before_revoke=self._finish_batch,
            max_records=self.settings.inbox_batch_size,
        )
        await self.source.start()

    async def run(self) -> None:
        """Apply batches until :meth:`stop` (the runtime restarts it if it fails)."""
        if self.source is None:
            await self.start()
        assert self.source is not None
        self._stopping.clear()
        try:
            while not self._stopping.is_set():
                records = await self.source.batch()
                if records:
                    async with self._batch_lock:
                        await self.apply(records)
                        self.source.done(records)
        except BaseException:
            await self.close()  # a fresh consumer (and group membership) on restart
            raise

    def stop(self) -> None:
        self._stopping.set()

    def rewind(self) -> None:
        """Read every partition from its start again (see ``RecordSource.rewind``)."""
        if self.source is not None:
            self.source.rewind()

    async def close(self) -> None:
        if self.source is not None:
            await self.source.stop()
            self.source = None

    @property
    def joined(self) -> bool:
        """Whether the consumer is in its group and holds partitions."""
        return self.source is not None and bool(self.source.assignment())

    def assignment(self) -> set[tuple[str, int]]:
        """The (topic, partition) pairs this process consumes now."""
        return self.source.assignment() if self.source is not None else set()

    def expect_traffic(self) -> None:
        """An answer is on its way (this service just published): fetch eagerly."""
        if self.source is not None:
            self.source.expect_traffic()

    async def _finish_batch(self) -> None:
        async with self._batch_lock:
            return

    # --- one batch ---------------------------------------------------------------------

    async def apply(self, records: Sequence[Record]) -> list[Delivery]:
        """Apply a batch (waiting out database outages), then dead-letter its poison."""
        started = time.perf_counter()
        deliveries = [Delivery(record) for record in records]
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(_INFRASTRUCTURE_ERRORS),
            wait=wait_exponential(multiplier=self.initial_backoff_seconds, max=5),
            before_sleep=lambda state: log.warning(
                "database unreachable, inbox waiting",
                error=repr(state.outcome.exception() if state.outcome else None),
            ),
        ):
            with attempt:
                await anyio.to_thread.run_sync(self._apply_batch, deliveries)
        for delivery in deliveries:
            if delivery.outcome is Outcome.DEAD_LETTERED:
                await dead_letter_until_taken(
                    self.broker, delivery, self.consumer, self.initial_backoff_seconds
                )
        count_outcomes(self.metrics, deliveries)
        if self.metrics is not None:
            self.metrics.batch_seconds.observe(time.perf_counter() - started)
        return deliveries

    def _apply_batch(self, deliveries: list[Delivery]) -> None:
        """In a worker thread: decode, then group-apply, then the set-aside one by one."""
        for delivery in deliveries:
            if delivery.outcome is None and delivery.message is None:
                self._decode(delivery)
        pending = [d for d in deliveries if d.outcome is None]
        aside = self._apply_group(pending)
        for delivery in aside:
            self._apply_alone(delivery)

    def _decode(self, delivery: Delivery) -> None:
        record = delivery.record
        if self._passed_by(record):
            delivery.outcome = Outcome.IGNORED
            return
        try:
            message = self.parser(record.topic, record.value or b"")
        except ContractViolation as violation:
            delivery.dead(violation.reason, type(violation).__name__)
            return
        subscription = self.subscriptions.get(record.topic)
        handler = subscription.handler_for(message) if subscription else None
        if subscription is None or handler is None:
            delivery.outcome = Outcome.IGNORED
            return
        delivery.message = message
        delivery.handler = handler
        delivery.refused = subscription.refused
        delivery.reads = subscription.reads
        delivery.tracking = tracking_for(
            self.consumer, record.topic, message, subscription.identity
        )

    def _passed_by(self, record: Record) -> bool:
        """Whether the record's headers name a message no handler here takes: no need
        to decode and validate what is only acknowledged (e.g. availability reads every
        booking event, and acts on three kinds)."""
        if self.announced is None:
            return False
        cls = self.announced(record.topic, record.headers or ())
        subscription = self.subscriptions.get(record.topic)
        return cls is not None and subscription is not None and subscription.handler_of(cls) is None

    def _apply_group(self, pending: list[Delivery]) -> list[Delivery]:
        """Apply ``pending`` in as few units of work as possible; return, in order, those
        set aside (a failed handler and its key's later messages) to apply one by one."""
        aside: list[Delivery] = []
        group = list(pending)
        while group:
            try:
                self._commit_with_retries(group)
            except _HandlerFailed as failed:
                bad = failed.delivery
                if isinstance(failed.error, Rejected) and bad.refused is None:
                    bad.dead(str(failed.error), "Rejected")  # else answered when alone
                moved = [d for d in group if d is bad or (d.key == bad.key and _after(d, bad))]
                aside.extend(d for d in moved if d.outcome is None)
                group = [d for d in group if d not in moved]
                continue
            except IntegrityError:  # keeps losing races: the rest one by one, in order
                aside.extend(group)
            break
        return [d for d in aside if d.outcome is None]

    def _commit_with_retries(self, group: list[Delivery]) -> None:
        """Commit the group's effects together, redone on fresh state after a lost race."""
        retrying = Retrying(
            retry=retry_if_exception_type(IntegrityError),
            stop=stop_after_attempt(self.max_attempts),
            wait=wait_exponential(multiplier=self.initial_backoff_seconds, max=1),
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                for delivery in self._commit_group(group):
                    delivery.outcome = Outcome.APPLIED

    def _commit_group(self, group: list[Delivery]) -> list[Delivery]:
        """One unit of work: what was applied before is marked, the rest applied; returns
        the applied ones (their outcome is set once the work committed)."""
        with self.app.unit_of_work() as work:
            mark_duplicates(work.recorded_positions, group)
            batch = [d for d in group if d.outcome is None]
            prefetch(work, batch)
            for delivery in batch:
                assert delivery.message is not None
                assert delivery.tracking is not None
                with delivery.context():
                    try:
                        delivery.handler(delivery.message, work)  # type: ignore[misc]
                    except _INFRASTRUCTURE_ERRORS:
                        raise
                    except Exception as error:
                        raise _HandlerFailed(delivery, error) from error
                    work.stamp()
                work.track(delivery.tracking)
        return batch

    def _apply_alone(self, delivery: Delivery) -> None:
        """One message in its own transaction, retried; dead-lettered when it keeps failing."""
        assert delivery.message is not None
        assert delivery.tracking is not None
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=wait_exponential(multiplier=self.initial_backoff_seconds, max=5),
            retry=retry_if_exception(lambda e: not isinstance(e, _NOT_RETRIED)),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    if attempt.retry_state.attempt_number > 1 and self.metrics:
                        self.metrics.retries.labels(delivery.record.topic).inc()
                    if self.app.applied(delivery.tracking):
                        delivery.outcome = Outcome.DUPLICATE
                        return
                    try:
                        self._commit_group([delivery])
                    except _HandlerFailed as failed:
                        raise failed.error from None
                    except IntegrityError:
                        if self.app.applied(delivery.tracking):
                            delivery.outcome = Outcome.DUPLICATE
                            return
                        raise
            delivery.outcome = Outcome.APPLIED
        except _INFRASTRUCTURE_ERRORS:
            raise
        except Rejected as rejection:
            if delivery.refused is None:
                delivery.dead(str(rejection), "Rejected")
            else:
                self._answer_refusal(delivery, rejection)
        except Exception as error:
            reason = f"effect failed after {self.max_attempts} attempts: {error!r}"
            delivery.dead(reason, type(error).__name__)

    def _answer_refusal(self, delivery: Delivery, rejection: Rejected) -> None:
        """Record a refused message as applied, with the answer it gets (one unit of
        work: a redelivery finds it applied, and is answered once)."""
        assert delivery.refused is not None
        assert delivery.tracking is not None
        log.info("message refused, answered", reason=str(rejection), topic=delivery.record.topic)
        try:
            with delivery.context(), self.app.unit_of_work() as work:
                delivery.refused(delivery.message, rejection, work)
                work.track(delivery.tracking)
        except _INFRASTRUCTURE_ERRORS:
            raise
        except IntegrityError:
            if self.app.applied(delivery.tracking):
                delivery.outcome = Outcome.DUPLICATE
            else:
                delivery.dead(f"{rejection}; its answer lost a race", "Rejected")
            return
        except Exception as error:  # a bug in the answer: the letter says both
            delivery.dead(f"{rejection}; answering it failed: {error!r}", type(error).__name__)
            return
        delivery.outcome = Outcome.APPLIED

    # --- dead letters and metrics ------------------------------------------------------


def _after(candidate: Delivery, failed: Delivery) -> bool:
    return candidate.record.offset > failed.record.offset
