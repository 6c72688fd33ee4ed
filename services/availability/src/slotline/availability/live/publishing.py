"""``SlotsChanged`` on ``availability.events.v1``: every recomputed day of the live view,
whole, for channels that read Kafka rather than the SSE feed (partner apps, a WhatsApp
adapter, the waitlist).

The view itself is the outbox: the projection bumps a day's ``revision`` in the
transaction that rewrites its rows, and this publisher sends each day whose revision
has not been published yet, then notes it (``published_revision``). A crash between the
broker's acknowledgement and that note sends the day again with the same ``event_id``
(derived from the day and its revision), which consumers de-duplicate by; a day
recomputed twice before it is sent goes once, as it stands — the message carries the
whole day, so nothing in between is needed. It runs beside the projection and only
while the projection leads, so one process publishes; a broker that is down delays the
messages (retried with backoff), never the view.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import anyio
from aiokafka import AIOKafkaProducer
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential

from slotline.availability.live import board
from slotline.availability.live.board import DayState
from slotline.events.contract.availability import SlotsChanged
from slotline.events.contract.common import SlotStatus
from slotline.events.kafka import RecordSender
from slotline.events.logs import get_logger
from slotline.events.recorder import SlotlineRecorder

log = get_logger(__name__)

_NAMESPACE = uuid.UUID("5e0c7a1e-51a7-4c1b-9f5e-00000000510d")


@dataclass(frozen=True)
class DayRecord:
    """One day's ``SlotsChanged`` as published: value, key and headers."""

    value: bytes
    key: bytes
    headers: dict[str, str]


def day_record(day: DayState) -> DayRecord:
    """One day's record, its slots written straight from the view's rows.

    The rows are the view's own, typed by its columns, and their instants are read as
    the JSON text pydantic writes (:data:`board.JSON_INSTANT`), so only the envelope is
    built as a model: building ~85 slot models per day, even unvalidated, and dumping
    them was ~14 % of the projector's CPU (py-spy at 50 bookings/s; 0.57 ms a day). Tests
    hold the bytes equal to what the message, validated, publishes, and the instants as
    PostgreSQL writes them equal to pydantic's."""
    envelope = _envelope(day)
    data = envelope.model_dump(mode="json")
    data["slots"] = [
        {
            "slot": {"start": row["slot_start"], "end": row["slot_end"]},
            "status": SlotStatus(row["status"]).value,
            "free_resources": int(row["free_resources"]),
            "seats_left": None if row["seats_left"] is None else int(row["seats_left"]),
        }
        for row in day.slots
    ]
    value = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    return DayRecord(value, envelope.aggregate_id.encode(), envelope.record_headers())


def _envelope(day: DayState) -> SlotsChanged:
    """The day's message without its slots (the same day and revision, the same id)."""
    key = day.key
    aggregate = f"{key.service_id}:{key.location_id}:{key.day.isoformat()}"
    return SlotsChanged(
        event_id=uuid.uuid5(_NAMESPACE, f"{aggregate}:{day.revision}"),
        tenant_id=key.tenant_id,
        aggregate_id=aggregate,
        sequence=day.revision,
        occurred_at=day.computed_at,
        service_id=str(key.service_id),
        location_id=str(key.location_id),
        day=key.day,
        slots=[],
    )


class SlotsPublisher:
    """Sends the live view's unpublished days; ``run`` until cancelled."""

    def __init__(
        self,
        store: Callable[[], SlotlineRecorder],
        schema: str,
        producer: Callable[[], AIOKafkaProducer],
        *,
        batch_size: int = 200,
        poll_seconds: float = 1.0,
        send_timeout_seconds: float = 10.0,
    ) -> None:
        self.store = store
        self.schema = schema
        self.make_producer = producer
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.send_timeout_seconds = send_timeout_seconds
        self.published = 0
        self._producer: AIOKafkaProducer | None = None
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Days were recomputed: look now rather than at the next poll."""
        self._wake.set()

    async def run(self, leading: Callable[[], bool]) -> None:
        """Publish while ``leading()``; a failed round is retried with backoff."""
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception_type(Exception),
                wait=wait_exponential(multiplier=0.5, max=30),
                before_sleep=lambda state: log.warning(
                    "slots changed not published, retrying",
                    error=repr(state.outcome.exception() if state.outcome else None),
                ),
            ):
                with attempt:
                    await self._publish_while(leading)
        finally:
            await self.close()

    async def _publish_while(self, leading: Callable[[], bool]) -> None:
        while True:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            self._wake.clear()
            while leading() and await self.publish_pending() == self.batch_size:
                pass

    async def publish_pending(self) -> int:
        """Send one batch of unpublished days and note them; how many there were."""
        days = await anyio.to_thread.run_sync(self._unpublished)
        if not days:
            return 0
        try:
            await asyncio.wait_for(self._send(days), self.send_timeout_seconds)
        except BaseException:
            await self.close()  # a fresh connection next round
            raise
        await anyio.to_thread.run_sync(self._mark, days)
        self.published += len(days)
        return len(days)

    async def close(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            with suppress(Exception):
                await producer.stop()

    async def _send(self, days: Sequence[DayState]) -> None:
        if self._producer is None:
            producer = self.make_producer()
            await producer.start()
            self._producer = producer
        sender = RecordSender(self._producer)
        pending: list[asyncio.Future[Any]] = []
        for day in days:
            record = day_record(day)
            pending.append(
                await sender.publish(
                    record.value,
                    topic=SlotsChanged.TOPIC,
                    key=record.key,
                    headers=record.headers,
                    no_confirm=True,
                )
            )
        await asyncio.gather(*pending)

    def _unpublished(self) -> list[DayState]:
        with self.store().transaction(commit=False) as cursor:
            return board.unpublished_days(cursor, self.schema, self.batch_size)

    def _mark(self, days: Sequence[DayState]) -> None:
        with self.store().transaction(commit=True) as cursor:
            board.mark_published(cursor, self.schema, days)
