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
from datetime import datetime
from typing import Any

import anyio
from eventsourcing.persistence import Notification, Tracking
from faststream.kafka import KafkaBroker
from opentelemetry import context as otel_context
from opentelemetry import propagate

from slotline.events.envelope import Message
from slotline.events.follower import LogFollower
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


class OutboxRelay(LogFollower):
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
        super().__init__(
            app,
            database_url=database_url,
            name=name,
            batch_size=batch_size,
            idle_poll_seconds=idle_poll_seconds,
        )
        self.broker = broker
        self.mapper = mapper
        self.metrics = metrics

    async def relay_once(self) -> int:
        """Publish the next batch and record its position; return its size."""
        return await self.follow_once()

    async def handle(self, notifications: Sequence[Notification]) -> None:
        await self.publish(notifications)
        await self.record_position(notifications[-1].id)

    async def publish(self, notifications: Sequence[Notification]) -> None:
        """Publish a batch and wait until the broker has acknowledged all of it."""
        mapped = await anyio.to_thread.run_sync(self._map, notifications)
        pending: list[asyncio.Future[Any]] = []
        stored_at: list[datetime | None] = []
        for notification, domain_event, message in mapped:
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

    def _map(
        self, notifications: Sequence[Notification]
    ) -> list[tuple[Notification, Any, Message]]:
        """Decode and map a batch in a worker thread: a mapper may read the store."""
        mapped = []
        for notification in notifications:
            domain_event = self.app.mapper.to_domain_event(notification)
            message = self.mapper(domain_event)
            if message is not None:
                mapped.append((notification, domain_event, message))
        return mapped
