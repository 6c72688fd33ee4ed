"""The slot feed: every recomputed day of the live view, pushed to subscribed clients.

One LISTEN connection per process hears the projection's NOTIFY (sent when a day's
rows commit) and fans it out to each subscriber whose filter matches. A subscriber
that falls behind by ``queue_size`` changes is dropped rather than slowing the rest;
its client reconnects and reads the current view afresh.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from slotline.availability.live.board import SLOTS_CHANGED_CHANNEL
from slotline.events.logs import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class DayChanged:
    tenant_id: str
    service_id: str
    location_id: str
    day: str
    revision: int


@dataclass(eq=False)  # each subscriber is itself: kept in a set by identity
class Subscriber:
    """One client's filter and its queue of changes (``None`` = dropped, reconnect)."""

    tenant_id: str
    location_id: str | None
    service_id: str | None
    queue: asyncio.Queue[DayChanged | None] = field(default_factory=asyncio.Queue)

    def wants(self, change: DayChanged) -> bool:
        return (
            change.tenant_id == self.tenant_id
            and self.location_id in (None, change.location_id)
            and self.service_id in (None, change.service_id)
        )


class SlotFeed:
    """Background task: LISTEN for view changes and hand them to subscribers."""

    name = "slot-feed"

    def __init__(self, database_url: str, queue_size: int = 256) -> None:
        self.database_url = database_url
        self.queue_size = queue_size
        self.listening = asyncio.Event()
        self._subscribers: set[Subscriber] = set()
        self._stopping = asyncio.Event()

    @asynccontextmanager
    async def subscribe(
        self, tenant_id: str, location_id: str | None, service_id: str | None
    ) -> AsyncIterator[Subscriber]:
        subscriber = Subscriber(
            tenant_id, location_id, service_id, asyncio.Queue(maxsize=self.queue_size)
        )
        self._subscribers.add(subscriber)
        try:
            yield subscriber
        finally:
            self._subscribers.discard(subscriber)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def publish(self, change: DayChanged) -> None:
        for subscriber in list(self._subscribers):
            if not subscriber.wants(change):
                continue
            try:
                subscriber.queue.put_nowait(change)
            except asyncio.QueueFull:
                self._drop(subscriber)

    async def run(self) -> None:
        async with await psycopg.AsyncConnection.connect(
            self.database_url, autocommit=True
        ) as connection:
            await connection.execute(
                sql.SQL("LISTEN {}").format(sql.Identifier(SLOTS_CHANGED_CHANNEL))
            )
            self.listening.set()
            notifies = connection.notifies()
            stop = asyncio.ensure_future(self._stopping.wait())
            try:
                while not self._stopping.is_set():
                    nxt = asyncio.ensure_future(anext(notifies))
                    done, _ = await asyncio.wait({nxt, stop}, return_when=asyncio.FIRST_COMPLETED)
                    if nxt not in done:
                        nxt.cancel()
                        break
                    self._received(nxt.result().payload)
            finally:
                stop.cancel()
                self.listening.clear()
                for subscriber in list(self._subscribers):
                    self._drop(subscriber)

    def stop(self) -> None:
        self._stopping.set()

    def _received(self, payload: str) -> None:
        try:
            data: dict[str, Any] = json.loads(payload)
            change = DayChanged(
                tenant_id=data["tenant_id"],
                service_id=data["service_id"],
                location_id=data["location_id"],
                day=data["day"],
                revision=int(data["revision"]),
            )
        except (ValueError, KeyError) as error:
            log.warning("unreadable slot change", payload=payload[:200], error=repr(error))
            return
        self.publish(change)

    def _drop(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)
        while not subscriber.queue.empty():
            subscriber.queue.get_nowait()
        subscriber.queue.put_nowait(None)
