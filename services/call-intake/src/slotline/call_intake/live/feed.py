"""The queue feed: every callback task change, pushed to the front desks of its tenant.

One LISTEN connection per process hears the projection's NOTIFY (sent when a task's
row commits) and hands it to each subscriber of that tenant. A subscriber that falls
behind by ``queue_size`` changes is dropped (it reconnects and reads the queue afresh).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from slotline.call_intake.live.tables import QUEUE_CHANGED_CHANNEL
from slotline.events.logs import get_logger

log = get_logger(__name__)


@dataclass(eq=False)
class QueueSubscriber:
    tenant_id: str
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)


class QueueFeed:
    """Background task: LISTEN for task changes and hand their ids to subscribers."""

    name = "callback-queue-feed"

    def __init__(self, database_url: str, queue_size: int = 256) -> None:
        self.database_url = database_url
        self.queue_size = queue_size
        self.listening = asyncio.Event()
        self._subscribers: set[QueueSubscriber] = set()
        self._stopping = asyncio.Event()

    @asynccontextmanager
    async def subscribe(self, tenant_id: str) -> AsyncIterator[QueueSubscriber]:
        subscriber = QueueSubscriber(tenant_id, asyncio.Queue(maxsize=self.queue_size))
        self._subscribers.add(subscriber)
        try:
            yield subscriber
        finally:
            self._subscribers.discard(subscriber)

    async def run(self) -> None:
        async with await psycopg.AsyncConnection.connect(
            self.database_url, autocommit=True
        ) as connection:
            await connection.execute(
                sql.SQL("LISTEN {}").format(sql.Identifier(QUEUE_CHANGED_CHANNEL))
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
            data = json.loads(payload)
            tenant_id, task_id = str(data["tenant_id"]), str(data["task_id"])
        except (ValueError, KeyError) as error:
            log.warning("unreadable queue change", payload=payload[:200], error=repr(error))
            return
        for subscriber in list(self._subscribers):
            if subscriber.tenant_id != tenant_id:
                continue
            try:
                subscriber.queue.put_nowait(task_id)
            except asyncio.QueueFull:
                self._drop(subscriber)

    def _drop(self, subscriber: QueueSubscriber) -> None:
        self._subscribers.discard(subscriber)
        while not subscriber.queue.empty():
            subscriber.queue.get_nowait()
        subscriber.queue.put_nowait(None)
