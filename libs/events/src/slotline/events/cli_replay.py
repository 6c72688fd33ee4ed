"""``slotline replay``: re-publish a service's stored events, to back-fill a new consumer.

The event store is the outbox, so it holds every event a service ever published. Replay
reads the service's notification log from a position or a date, maps each stored event
with the service's own integration mapper, and publishes it through the outbox relay's
own publishing code: the same ``event_id``, ``sequence``, ``occurred_at``, correlation,
causation, key and headers as the first publication, so a consumer that already has an
event recognises it (the idempotent inbox skips it). Only the topic may differ. Nothing
is recorded: the service's relay position is untouched, and a replay can run beside the
live service.

Reading and mapping the next batch overlaps with publishing the current one, and each
batch is acknowledged by the broker as a whole before the next is sent.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import anyio
import typer
from aiokafka import AIOKafkaProducer
from eventsourcing.persistence import Notification

from slotline.events.envelope import Message
from slotline.events.kafka import RecordSender, build_producer, ensure_topics
from slotline.events.publishing import Publisher
from slotline.events.relay import IntegrationMapper, OutboxRelay
from slotline.events.runtime import Runtime, ServiceSpec
from slotline.events.settings import ServiceSettings
from slotline.events.store import ServiceApplication

CLOCK_SKEW = timedelta(minutes=5)
"""How far out of order stored timestamps can be: a timestamp is taken when the domain
method runs, the notification id when its transaction commits."""


@dataclass(frozen=True)
class ReplayOutcome:
    """What one replay did."""

    read: int
    published: int
    first_position: int | None
    last_position: int | None
    seconds: float

    @property
    def rate(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0


def replay_producer(settings: ServiceSettings) -> AIOKafkaProducer:
    """A producer like the relay's, batching more (a replay sends thousands at once)."""
    return build_producer(settings, "replay", linger_ms=5, max_batch_size=512 * 1024)


class Replay:
    """Re-publishes one application's stored events, as its relay published them."""

    def __init__(
        self,
        app: ServiceApplication,
        producer: AIOKafkaProducer,
        publisher: Publisher | IntegrationMapper,
        *,
        to_topic: str | None = None,
        topics: Iterable[str] = (),
        since: datetime | None = None,
        batch_size: int = 2000,
        clock_skew: timedelta = CLOCK_SKEW,
    ) -> None:
        self.app = app
        self.clock_skew = clock_skew
        self.topics = frozenset(topics)
        self.since = since
        self.batch_size = batch_size
        self.published = 0
        self._publisher = OutboxRelay(
            app,
            RecordSender(producer, to_topic),
            publisher,
            database_url="",  # never follows the log: no LISTEN connection
            name="replay",
            keep=self._keep,
        )

    def _keep(self, domain_event: Any, message: Message) -> bool:
        """Only the chosen source topics, from the chosen date."""
        if self.since is not None and domain_event.timestamp < self.since:
            return False
        if self.topics and message.TOPIC not in self.topics:
            return False
        self.published += 1
        return True

    def first_position_since(self, since: datetime) -> int:
        """The first notification id stored at or after ``since`` (less the clock skew):
        a binary search, because ids grow with commit order and timestamps with them."""
        recorder = self.app.process_recorder
        low, high = 1, recorder.max_notification_id() or 0
        found = high + 1
        while low <= high:
            middle = (low + high) // 2
            batch = recorder.select_notifications(start=middle, limit=1)
            if not batch:
                high = middle - 1
                continue
            stored_at: datetime = cast(Any, self.app.mapper.to_domain_event(batch[0])).timestamp
            if stored_at >= since - self.clock_skew:
                found, high = batch[0].id, middle - 1
            else:
                low = batch[0].id + 1
        return found

    async def run(self, start: int = 1, stop: int | None = None) -> ReplayOutcome:
        """Replay positions ``start`` to ``stop`` (default: the last stored now)."""
        began = time.perf_counter()
        if self.since is not None:
            start = max(
                start, await anyio.to_thread.run_sync(self.first_position_since, self.since)
            )
        if stop is None:
            stop = await anyio.to_thread.run_sync(self.app.process_recorder.max_notification_id)
        read, first, last = 0, None, None
        next_batch = asyncio.create_task(self._read(start, stop or 0))
        while batch := await next_batch:
            next_batch = asyncio.create_task(self._read(batch[-1].id + 1, stop or 0))
            await self._publisher.publish(batch)
            read += len(batch)
            first = first if first is not None else batch[0].id
            last = batch[-1].id
        return ReplayOutcome(read, self.published, first, last, time.perf_counter() - began)

    async def _read(self, start: int, stop: int) -> Sequence[Notification]:
        if start > stop:
            return ()
        return await anyio.to_thread.run_sync(
            lambda: self.app.process_recorder.select_notifications(
                start=start, limit=self.batch_size, stop=stop
            )
        )


def service_spec(service: str) -> ServiceSpec[Any]:
    """The service's own wiring, found by name (``call-intake`` → ``slotline.call_intake``)."""
    module_name = f"slotline.{service.replace('-', '_')}.wiring"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        raise typer.BadParameter(
            f"no service {service!r}: cannot import {module_name}", param_hint="SERVICE"
        ) from error
    factory: Callable[[], ServiceSpec[Any]] = module.service_spec
    return factory()


async def replay_service(
    spec: ServiceSpec[Any],
    *,
    to_topic: str | None,
    topics: Sequence[str],
    start: int,
    stop: int | None,
    since: datetime | None,
    batch_size: int,
    partitions: int,
) -> ReplayOutcome:
    """Open the service's store and broker as the service would, and replay."""
    app = await anyio.to_thread.run_sync(Runtime(spec).open_store)
    producer = replay_producer(spec.settings)
    try:
        if to_topic:
            await ensure_topics(
                spec.settings.kafka_bootstrap,
                [to_topic],
                partitions=partitions,
                security=spec.settings.kafka_security,
            )
        await producer.start()
        replay = Replay(
            app,
            producer,
            spec.publisher(app),
            to_topic=to_topic,
            topics=topics,
            since=since,
            batch_size=batch_size,
        )
        return await replay.run(start, stop)
    finally:
        await producer.stop()
        await anyio.to_thread.run_sync(app.close)


def replay_command(
    service: str = typer.Argument(help="The service whose events to replay, e.g. availability."),
    to: str | None = typer.Option(
        None, "--to", help="Topic to publish to. Default: each event's own topic."
    ),
    topic: list[str] = typer.Option(
        [], "--topic", help="Only events of this public topic (repeatable). Default: all."
    ),
    from_position: int = typer.Option(
        1, "--from-position", min=1, help="First notification id of the service's store."
    ),
    to_position: int | None = typer.Option(
        None, "--to-position", min=1, help="Last notification id. Default: the last stored."
    ),
    since: datetime | None = typer.Option(
        None,
        "--since",
        formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"],
        help="Only events stored at or after this date or time (UTC unless an offset is given).",
    ),
    batch_size: int = typer.Option(2000, min=1, help="Events read and acknowledged at once."),
    partitions: int = typer.Option(3, min=1, help="Partitions if --to must be created."),
    database_url: str | None = typer.Option(None, help="Default: SLOTLINE_DATABASE_URL."),
    kafka_bootstrap: str | None = typer.Option(None, help="Default: SLOTLINE_KAFKA_BOOTSTRAP."),
) -> None:
    """Re-publish a service's stored events (same event ids) to back-fill a consumer."""
    spec = service_spec(service)
    overrides = {"database_url": database_url, "kafka_bootstrap": kafka_bootstrap}
    spec.settings = spec.settings.model_copy(
        update={k: v for k, v in overrides.items() if v is not None}
    )
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    outcome = asyncio.run(
        replay_service(
            spec,
            to_topic=to,
            topics=topic,
            start=from_position,
            stop=to_position,
            since=since,
            batch_size=batch_size,
            partitions=partitions,
        )
    )
    where = f"to {to}" if to else "to their own topics"
    span = f"positions {outcome.first_position}–{outcome.last_position}" if outcome.read else "none"
    typer.echo(
        f"replayed {outcome.published} events of {service} {where} "
        f"({outcome.read} stored events read, {span}) in {outcome.seconds:.1f}s "
        f"({outcome.rate:.0f} events/s)"
    )
