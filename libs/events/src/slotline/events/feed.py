"""Pushing a read model's changes to live clients (SSE): one LISTEN connection per
process hears a projection's NOTIFY (sent when its rows commit) and hands each change
to the subscribers that want it. A subscriber that falls behind by ``queue_size``
changes is dropped — it gets ``None`` and its client reconnects and reads afresh —
rather than slowing the rest.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import psycopg
from psycopg import sql

from slotline.events.logs import get_logger

log = get_logger(__name__)

Change = TypeVar("Change")


@dataclass(eq=False)  # each subscriber is itself: kept in a set by identity
class FeedSubscriber(Generic[Change]):
    """One client's filter and its queue of changes (``None`` = dropped, reconnect)."""

    wants: Callable[[Change], bool]
    queue: asyncio.Queue[Change | None]


class NotifyFeed(Generic[Change]):
    """Background task: LISTEN on ``channel``, parse each payload, fan it out."""

    name = "notify-feed"

    def __init__(
        self,
        database_url: str,
        channel: str,
        parse: Callable[[dict[str, Any]], Change],
        queue_size: int = 256,
    ) -> None:
        self.database_url = database_url
        self.channel = channel
        self.parse = parse
        self.queue_size = queue_size
        self.listening = asyncio.Event()
        self._subscribers: set[FeedSubscriber[Change]] = set()
        self._stopping = asyncio.Event()

    @asynccontextmanager
    async def subscribe_where(
        self, wants: Callable[[Change], bool]
    ) -> AsyncIterator[FeedSubscriber[Change]]:
        subscriber = FeedSubscriber(wants, asyncio.Queue(maxsize=self.queue_size))
        self._subscribers.add(subscriber)
        try:
            yield subscriber
        finally:
            self._subscribers.discard(subscriber)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def publish(self, change: Change) -> None:
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
            await connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            self.listening.set()
            notifies = connection.notifies()
            stop = asyncio.ensure_future(self._stopping.wait())
            try:
                while not self._stopping.is_set():
                    nxt = asyncio.ensure_future(anext(notifies))
                    done, _ = await asyncio.wait({nxt, stop}, return_when=asyncio.FIRST_COMPLETED)
                    if nxt not in done:
                        nxt.cancel()
                        with suppress(asyncio.CancelledError):
                            await nxt
                        break
                    self._received(nxt.result().payload)
            finally:
                stop.cancel()
                # A generator left at a yield keeps the connection's lock, and leaving
                # the connection would then wait for it: close it first.
                await notifies.aclose()
                self.listening.clear()
                for subscriber in list(self._subscribers):
                    self._drop(subscriber)

    def stop(self) -> None:
        self._stopping.set()

    def _received(self, payload: str) -> None:
        try:
            change = self.parse(json.loads(payload))
        except (ValueError, KeyError, TypeError) as error:
            log.warning(
                "unreadable change", channel=self.channel, payload=payload[:200], error=repr(error)
            )
            return
        self.publish(change)

    def _drop(self, subscriber: FeedSubscriber[Change]) -> None:
        self._subscribers.discard(subscriber)
        while not subscriber.queue.empty():
            subscriber.queue.get_nowait()
        subscriber.queue.put_nowait(None)
