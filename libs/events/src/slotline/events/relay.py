"""Outbox relay: the event store's notification log → integration events on Kafka.

At least once, no gaps, per-key order: each batch is read in notification order,
published (key = aggregate id), acknowledged by the broker, and only then is the
position recorded in the tracking table. A crash between publish and record
re-publishes the batch with the same ``event_id``s, which consumers recognise.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import datetime
from typing import Any

import anyio
import psycopg
from eventsourcing.persistence import Notification, Tracking
from faststream.kafka import KafkaBroker
from opentelemetry import context as otel_context
from opentelemetry import propagate
from psycopg import sql

from slotline.events.envelope import Message
from slotline.events.logs import get_logger
from slotline.events.metrics import RelayMetrics
from slotline.events.store import ServiceApplication, event_meta

log = get_logger(__name__)

IntegrationMapper = Callable[[Any], Message | None]
"""Maps one domain event to the integration event it publishes, or ``None``."""

_EVENT_ID_NAMESPACE = uuid.UUID("5e0c7a1e-51a7-4c1b-9f5e-000000000001")


def integration_event_id(app_name: str, originator_id: object, version: int) -> uuid.UUID:
    """Stable id of the integration event published for one stored domain event."""
    return uuid.uuid5(_EVENT_ID_NAMESPACE, f"{app_name}:{originator_id}:{version}")


class OutboxRelay:
    """Follows one application's notification log and publishes what it maps."""

    def __init__(
        self,
        app: ServiceApplication,
        broker: KafkaBroker,
        mapper: IntegrationMapper,
        *,
        database_url: str,
        name: str = "outbox-relay",
        batch_size: int = 500,
        idle_poll_seconds: float = 1.0,
        metrics: RelayMetrics | None = None,
    ) -> None:
        self.app = app
        self.broker = broker
        self.mapper = mapper
        self.database_url = database_url
        self.name = name
        self.batch_size = batch_size
        self.idle_poll_seconds = idle_poll_seconds
        self.metrics = metrics
        self.position: int | None = None
        self.state = "stopped"
        self._stopping = asyncio.Event()
        self._news = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        """Relay until :meth:`stop`. One relay per store leads, the others stand by.

        Leadership is a PostgreSQL advisory lock held by the LISTEN connection, so a
        second replica of a service never publishes the same batch concurrently, and a
        dead leader's lock vanishes with its connection.
        """
        async with await psycopg.AsyncConnection.connect(
            self.database_url, autocommit=True
        ) as listener:
            self.state = "standby"
            if not await self._become_leader(listener):
                self.state = "stopped"
                return
            self.position = await anyio.to_thread.run_sync(self._recorded_position)
            channel = getattr(self.app.process_recorder, "channel_name", None)
            if channel:
                await listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
            listening = asyncio.create_task(self._listen(listener))
            self.state = "leading"
            log.info("relay leading", relay=self.name, position=self.position)
            try:
                while not self._stopping.is_set():
                    if listening.done():
                        listening.result()  # a dead LISTEN connection: fail, be restarted
                    published = await self.relay_once()
                    if published < self.batch_size:
                        await self._wait_for_news()
            finally:
                self.state = "stopped"
                listening.cancel()
                with suppress(asyncio.CancelledError, psycopg.Error):
                    await listening
                log.info("relay stopped", relay=self.name, position=self.position)

    @property
    def running(self) -> bool:
        return self.state in {"leading", "standby"}

    async def relay_once(self) -> int:
        """Publish the next batch and record its position; return its size."""
        if self.position is None:
            self.position = await anyio.to_thread.run_sync(self._recorded_position)
        notifications = await anyio.to_thread.run_sync(self._next_batch)
        if not notifications:
            return 0
        await self.publish(notifications)
        await self.record_position(notifications[-1].id)
        return len(notifications)

    async def publish(self, notifications: Sequence[Notification]) -> None:
        """Publish a batch and wait until the broker has acknowledged all of it."""
        pending: list[asyncio.Future[Any]] = []
        stored_at: list[datetime | None] = []
        for notification in notifications:
            domain_event = self.app.mapper.to_domain_event(notification)
            message = self.mapper(domain_event)
            if message is None:
                continue
            meta = event_meta(domain_event)
            message = message.model_copy(
                update={
                    "event_id": integration_event_id(
                        self.app.name, notification.originator_id, notification.originator_version
                    ),
                    "sequence": notification.originator_version,
                    "occurred_at": getattr(domain_event, "timestamp", message.occurred_at),
                    "correlation_id": meta.get("correlation_id") or message.correlation_id,
                    "causation_id": meta.get("causation_id") or message.causation_id,
                }
            )
            token = otel_context.attach(propagate.extract(meta))
            try:
                future = await self.broker.publish(
                    message.to_json(),
                    topic=message.TOPIC,
                    key=message.aggregate_id.encode(),
                    headers={
                        "content-type": "application/json",
                        "event_type": message.event_type,
                        "schema_version": str(message.schema_version),
                    },
                    no_confirm=True,
                )
            finally:
                otel_context.detach(token)
            pending.append(future)
            stored_at.append(getattr(domain_event, "timestamp", None))
            if self.metrics:
                self.metrics.published.labels(message.TOPIC).inc()
        await asyncio.gather(*pending)
        if self.metrics:
            now = time.time()
            for ts in stored_at:
                if ts is not None:
                    self.metrics.lag.observe(max(0.0, now - ts.timestamp()))

    async def record_position(self, notification_id: int) -> None:
        await anyio.to_thread.run_sync(
            self.app.process_recorder.insert_tracking, Tracking(self.name, notification_id)
        )
        self.position = notification_id
        if self.metrics:
            self.metrics.position.set(notification_id)

    async def _become_leader(self, connection: psycopg.AsyncConnection[Any]) -> bool:
        """Wait until this relay holds the store's relay lock; False if stopped first."""
        schema = self.app.env.get("POSTGRES_SCHEMA") or "public"
        lock = f"slotline-relay:{schema}:{self.app.name}:{self.name}"
        while not self._stopping.is_set():
            cursor = await connection.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (lock,))
            row = await cursor.fetchone()
            if row and row[0]:
                return True
            with suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.idle_poll_seconds)
        return False

    def _recorded_position(self) -> int:
        return self.app.process_recorder.max_tracking_id(self.name) or 0

    def _next_batch(self) -> Sequence[Notification]:
        return self.app.process_recorder.select_notifications(
            start=self.position or 0, limit=self.batch_size, inclusive_of_start=False
        )

    async def _wait_for_news(self) -> None:
        """Sleep until the store NOTIFYs a commit, the relay stops, or the poll interval."""
        stop = asyncio.ensure_future(self._stopping.wait())
        news = asyncio.ensure_future(self._news.wait())
        try:
            await asyncio.wait(
                {stop, news}, timeout=self.idle_poll_seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for task in (stop, news):
                task.cancel()
            self._news.clear()

    async def _listen(self, listener: psycopg.AsyncConnection[Any]) -> None:
        async for _ in listener.notifies():
            self._news.set()
