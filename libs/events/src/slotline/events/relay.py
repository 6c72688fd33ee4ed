"""Outbox relay: the event store's notification log → integration events on Kafka.

At least once, no gaps, per-key order: each batch is read in notification order,
published (key = aggregate id), acknowledged by the broker, and only then is the
position recorded in the tracking table. A crash between publish and record
re-publishes the batch with the same ``event_id``s, which consumers recognise.
Under load the position is recorded at most every ``record_interval`` (0.1 s), not after
every batch: a transaction a batch was ~60 a second for each service, and a crash
re-publishes at most that interval's events more, which consumers recognise just the same.

Mapping is a table lookup on the event's class (:class:`~slotline.events.publishing.Publisher`)
over the aggregate's state kept by the relay, so it reads nothing from the database.
An event that cannot be decoded or mapped is no reason to stop publishing every later
one, nor to drop it quietly: it is written to ``slotline.outbox.dlq`` (the inbox's
dead-letter record and headers, naming the service, the notification id, the stored
topic and the reason; an error log and the ``slotline_relay_unpublishable`` metric),
and the relay moves on. A batch's position is recorded only after each of its events
was either acknowledged on its topic or acknowledged as a dead letter. A failure of the
store itself (the database, its pool) is not the event's fault: it is raised, and the
supervised relay starts again from its recorded position.
"""

from __future__ import annotations

import asyncio
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import psycopg
from eventsourcing.persistence import (
    ConnectionPoolClosedError,
    Notification,
    PersistenceError,
    Tracking,
)
from opentelemetry import context as otel_context
from opentelemetry import propagate
from psycopg import sql

from slotline.events.dead_letters import dead_letter, stored_event
from slotline.events.envelope import Message
from slotline.events.follower import LogFollower
from slotline.events.kafka import Publishes
from slotline.events.logs import get_logger
from slotline.events.metrics import RelayMetrics
from slotline.events.publishing import AggregateStates, Publisher
from slotline.events.store import ServiceApplication, event_meta
from slotline.events.topics import OUTBOX_DEAD_LETTERS

log = get_logger(__name__)

IntegrationMapper = Callable[[Any], Message | None]
"""Legacy: maps one domain event to the integration event it publishes, or ``None``."""

STORE_ERRORS = (PersistenceError, ConnectionPoolClosedError, psycopg.Error)
"""Failures of the store, not of the event: never a reason to dead-letter it."""

_EVENT_ID_NAMESPACE = uuid.UUID("5e0c7a1e-51a7-4c1b-9f5e-000000000001")

BROKER_RESTARTED = "slotline_broker_restarted"
"""NOTIFY channel: the (embedded, in-memory) broker came back empty; relays re-publish."""

BROKER_EPOCHS = "slotline_broker_epochs"
"""Table (made by the local stack only) counting the embedded broker's restarts, and the
restart after which each relay last re-published: a relay whose process was down when
the NOTIFY came finds the restart there when it starts again. Without the table (Apache
Kafka keeps its messages) there is nothing to find."""


def integration_event_id(app_name: str, originator_id: object, version: int) -> uuid.UUID:
    """Stable id of the integration event published for one stored domain event."""
    return uuid.uuid5(_EVENT_ID_NAMESPACE, f"{app_name}:{originator_id}:{version}")


class OutboxRelay(LogFollower):
    """Follows one application's notification log and publishes what it maps."""

    def __init__(
        self,
        app: ServiceApplication,
        broker: Publishes,
        publisher: Publisher | IntegrationMapper,
        *,
        database_url: str,
        name: str = "outbox-relay",
        batch_size: int = 500,
        idle_poll_seconds: float = 1.0,
        metrics: RelayMetrics | None = None,
        on_published: Callable[[], None] | None = None,
        keep: Callable[[Any, Message], bool] | None = None,
        record_interval: float = 0.1,
    ) -> None:
        super().__init__(
            app,
            database_url=database_url,
            name=name,
            batch_size=batch_size,
            idle_poll_seconds=idle_poll_seconds,
        )
        self.broker = broker
        self.publisher = publisher
        self.metrics = metrics
        self.on_published = on_published
        self.keep = keep
        self.record_interval = record_interval
        self._recording: asyncio.Future[None] | None = None
        self._unrecorded: int | None = None
        self._recorded_at = -record_interval
        self._hurry = asyncio.Event()
        self._rewind = False
        self._republishing = False
        self._republishing_until = 0
        self._epoch_checked = False
        self._epoch_to_record: int | None = None
        self.states = AggregateStates(
            lambda aggregate_id, version: app.repository.get(aggregate_id, version=version)
        )

    async def relay_once(self) -> int:
        """Publish the next batch and record its position; return its size."""
        handled = await self.follow_once()
        await self.settle()
        return handled

    async def handle(self, notifications: Sequence[Notification]) -> None:
        """Publish, then record the position *while the next batch is read and published*:
        positions are recorded in order, one at a time, each only after its batch was
        acknowledged and at most every ``record_interval``, so a crash re-publishes at most
        the batches since the last one recorded."""
        await self.publish(notifications)
        if self._republishing and notifications[-1].id >= self._republishing_until:
            self._republishing = False  # re-published everything: note the restart
            if self._epoch_to_record is not None:
                await anyio.to_thread.run_sync(self._record_epoch, self._epoch_to_record)
                self._epoch_to_record = None
        if notifications[-1].id <= self._republishing_until:
            return  # re-publishing what was recorded before: the position stands
        self._unrecorded = notifications[-1].id
        if self._recording is not None:
            if not self._recording.done():
                return  # the recorder in flight records this position too, when due
            recording, self._recording = self._recording, None
            await recording  # a failed record: restarted from the recorded position
        self._recording = asyncio.ensure_future(self._record_when_due())

    async def _record_when_due(self) -> None:
        """Record the newest published position, each record ``record_interval`` after
        the last (sooner when :meth:`settle` hurries it), until none is left unrecorded."""
        loop = asyncio.get_running_loop()
        while self._unrecorded is not None:
            due = self._recorded_at + self.record_interval - loop.time()
            if due > 0 and not self._hurry.is_set():
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._hurry.wait(), due)
            position, self._unrecorded = self._unrecorded, None
            self._recorded_at = loop.time()
            await self.record_position(position)

    async def run(self) -> None:
        """Follow the log; a re-publication cut short (a publish failed, the task is
        restarted from its recorded position) starts again from the start."""
        self._epoch_checked = False
        if self._republishing:
            self._rewind = True
        await super().run()

    def notices(self) -> tuple[str, ...]:
        return (BROKER_RESTARTED,)

    def noticed(self, channel: str, payload: str) -> None:
        self._rewind = True
        self._epoch_checked = False

    async def before_batch(self) -> None:
        """After the embedded broker lost its messages, publish everything again from the
        start: consumers recognise what they applied (same event ids, same sequences), and
        get what they never saw. Apache Kafka keeps its messages; nobody NOTIFYs there."""
        if not self._epoch_checked:  # on start, and after a NOTIFY
            self._epoch_checked = True
            missed = await anyio.to_thread.run_sync(self._missed_restart)
            if missed is not None:
                self._rewind, self._epoch_to_record = True, missed
        if not self._rewind:
            return
        self._rewind = False
        await self.settle()
        log.warning(
            "broker restarted empty: re-publishing every stored event",
            follower=self.name,
            service=self.app.name,
            from_position=self.position,
        )
        until = self.position or 0
        if self._republishing:  # restarted again before it had finished
            until = max(until, self._republishing_until)
        self._republishing_until = until
        self._republishing = True
        self.position = 0
        self.states = AggregateStates(self.states.load)

    def _missed_restart(self) -> int | None:
        """The broker's restart count when this relay has not re-published since the
        last restart (see :data:`BROKER_EPOCHS`), else None."""
        table = sql.Identifier("public", BROKER_EPOCHS)
        holder = f"{self.app.name}:{self.name}"
        with self.app.sql_recorder.transaction(commit=True) as cursor:
            cursor.execute("SELECT to_regclass(%s) AS found", (f"public.{BROKER_EPOCHS}",))
            row = cursor.fetchone()
            if row is None or row["found"] is None:
                return None
            cursor.execute(sql.SQL("SELECT epoch FROM {} WHERE holder = 'broker'").format(table))
            broker = cursor.fetchone()
            if broker is None:
                return None
            cursor.execute(  # a relay met for the first time is up to date
                sql.SQL("INSERT INTO {} VALUES (%s, %s) ON CONFLICT DO NOTHING").format(table),
                (holder, broker["epoch"]),
            )
            cursor.execute(
                sql.SQL("SELECT epoch FROM {} WHERE holder = %s").format(table), (holder,)
            )
            own = cursor.fetchone()
        behind = own is not None and int(own["epoch"]) < int(broker["epoch"])
        return int(broker["epoch"]) if behind else None

    def _record_epoch(self, epoch: int) -> None:
        table = sql.Identifier("public", BROKER_EPOCHS)
        with self.app.sql_recorder.transaction(commit=True) as cursor:
            cursor.execute(
                sql.SQL("UPDATE {} SET epoch = greatest(epoch, %s) WHERE holder = %s").format(
                    table
                ),
                (epoch, f"{self.app.name}:{self.name}"),
            )

    async def settle(self) -> None:
        """Record the last published batch's position now, and wait until it is."""
        if self._recording is None:
            return
        recording, self._recording = self._recording, None
        self._hurry.set()
        try:
            await recording
        finally:
            self._hurry.clear()

    async def publish(self, notifications: Sequence[Notification]) -> None:
        """Publish a batch and wait until the broker has acknowledged all of it."""
        mapped, failed = await anyio.to_thread.run_sync(self._map, notifications)
        pending: list[asyncio.Future[Any]] = []
        stored_at: list[datetime | None] = []
        for notification, domain_event, message in mapped:
            meta = event_meta(domain_event)
            event_id = integration_event_id(
                self.app.name, notification.originator_id, notification.originator_version
            )
            # A flow's first message is its own correlation: the payload always names one,
            # and the record's correlation_id header says the same (FastStream would
            # otherwise stamp a random id of its own there).
            correlation_id = meta.get("correlation_id") or message.correlation_id or str(event_id)
            message = message.model_copy(
                update={
                    "event_id": event_id,
                    "sequence": notification.originator_version,
                    "occurred_at": getattr(domain_event, "timestamp", message.occurred_at),
                    "correlation_id": correlation_id,
                    "causation_id": meta.get("causation_id") or message.causation_id,
                }
            )
            token = otel_context.attach(propagate.extract(meta))
            try:
                future = await self.broker.publish(
                    message.to_json(),
                    topic=message.TOPIC,
                    key=message.aggregate_id.encode(),
                    headers=message.record_headers(),
                    correlation_id=correlation_id,
                    no_confirm=True,
                )
            finally:
                otel_context.detach(token)
            pending.append(future)
            stored_at.append(getattr(domain_event, "timestamp", None))
            if self.metrics:
                self.metrics.published.labels(message.TOPIC).inc()
        for notification, error in failed:
            await self._dead_letter(notification, error)
        await asyncio.gather(*pending)
        if mapped and self.on_published is not None:
            self.on_published()
        if self.metrics:
            now = time.time()
            for ts in stored_at:
                if ts is not None:
                    self.metrics.lag.observe(max(0.0, now - ts.timestamp()))

    async def record_position(self, notification_id: int) -> None:
        await anyio.to_thread.run_sync(
            self.app.process_recorder.insert_tracking, Tracking(self.name, notification_id)
        )
        self.position = max(self.position or 0, notification_id)  # it may have read on
        if self.metrics:
            self.metrics.position.set(notification_id)

    def _map(
        self, notifications: Sequence[Notification]
    ) -> tuple[list[tuple[Notification, Any, Message]], list[tuple[Notification, Exception]]]:
        """Decode and map a batch in a worker thread."""
        mapped: list[tuple[Notification, Any, Message]] = []
        failed: list[tuple[Notification, Exception]] = []
        publisher = self.publisher
        for notification in notifications:
            try:
                domain_event = self.app.mapper.to_domain_event(notification)
                if isinstance(publisher, Publisher):
                    if not publisher.follows(domain_event):
                        continue
                    aggregate = self.states.advance(domain_event)
                    message = publisher.message_for(aggregate, domain_event)
                else:
                    message = publisher(domain_event)
            except STORE_ERRORS:
                raise  # the database, not the event: start again from the recorded position
            except Exception as error:  # a mapping bug must not stop every later event
                self.states.forget(notification.originator_id)
                failed.append((notification, error))
                continue
            if message is not None and (self.keep is None or self.keep(domain_event, message)):
                mapped.append((notification, domain_event, message))
        return mapped, failed

    async def _dead_letter(self, notification: Notification, error: Exception) -> None:
        """Write the stored event to the outbox dead-letter topic and wait for the
        broker's acknowledgement (the batch's position is recorded only after it)."""
        reason = unpublishable_reason(error)
        log.error(
            "stored event could not be published; sent to the outbox dead-letter topic",
            service=self.app.name,
            notification_id=notification.id,
            topic=notification.topic,
            originator_id=str(notification.originator_id),
            version=notification.originator_version,
            error=reason,
            traceback="".join(traceback.format_exception(error))[-2000:],
        )
        if self.metrics:
            self.metrics.unpublishable.inc()
        await dead_letter(
            self.broker,
            stored_event(self.app.name, notification),
            consumer=f"{self.app.name}-relay",
            reason=reason,
            error_type=type(error).__name__,
            topic=OUTBOX_DEAD_LETTERS,
        )


def unpublishable_reason(error: Exception) -> str:
    """Why a stored event was not published: the error and the function it came from."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f" in {frames[-1].name} ({Path(frames[-1].filename).name}:{frames[-1].lineno})"
    return f"mapping failed{where if frames else ''}: {error!r}"
