"""Wakes requests waiting on a booking (``POST /bookings`` answering fast, the outcome
stream) when its stream grows. Every replica follows the store's NOTIFY on its own —
no leader — because the answer may be recorded by another replica's consumer.

The watch hands each waiter the booking as it now is, loaded with every other changed
booking being waited on in one query: under a burst of 200 requests, one read per
wake-up instead of one per waiter (each a worker thread and a pooled connection)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import anyio
import psycopg
from psycopg import sql

from slotline.events.logs import get_logger
from slotline.events.store import ServiceApplication

log = get_logger(__name__)

BATCH = 1000


@dataclass(eq=False)
class Watched:
    """A waiter on one booking: ``changed`` is set when it changes, and ``latest`` is
    the booking as the watch loaded it then (None: read it yourself)."""

    changed: asyncio.Event = field(default_factory=asyncio.Event)
    latest: Any = None

    def news(self) -> Any:
        """The booking the watch last loaded for this waiter (None if none), once."""
        latest, self.latest = self.latest, None
        self.changed.clear()
        return latest


class BookingWatch:
    name = "booking-watch"

    def __init__(
        self, app: ServiceApplication, *, database_url: str, poll_seconds: float = 0.5
    ) -> None:
        self.app = app
        self.database_url = database_url
        self.poll_seconds = poll_seconds
        self._waiters: defaultdict[UUID, set[Watched]] = defaultdict(set)
        self._news = asyncio.Event()
        self._stopping = asyncio.Event()
        self.position: int | None = None

    @contextmanager
    def watching(self, booking_id: UUID) -> Iterator[Watched]:
        """Told whenever the booking changes; register before reading it."""
        watched = Watched()
        self._waiters[booking_id].add(watched)
        try:
            yield watched
        finally:
            self._waiters[booking_id].discard(watched)
            if not self._waiters[booking_id]:
                del self._waiters[booking_id]

    async def run(self) -> None:
        recorder: Any = self.app.process_recorder
        async with await psycopg.AsyncConnection.connect(
            self.database_url, autocommit=True
        ) as listener:
            await listener.execute(
                sql.SQL("LISTEN {}").format(sql.Identifier(recorder.channel_name))
            )
            self.position = await anyio.to_thread.run_sync(recorder.max_notification_id) or 0
            listening = asyncio.create_task(self._listen(listener))
            try:
                while not self._stopping.is_set():
                    if listening.done():
                        listening.result()
                    await self._wake_changed()
                    await self._wait_for_news()
            finally:
                listening.cancel()
                with suppress(asyncio.CancelledError, psycopg.Error):
                    await listening

    def stop(self) -> None:
        self._stopping.set()

    async def _wake_changed(self) -> None:
        while True:
            waited_on = frozenset(self._waiters)
            batch, loaded = await anyio.to_thread.run_sync(self._next_batch, waited_on)
            if batch:
                self.position = batch[-1].id
            for notification in batch:
                for watched in self._waiters.get(notification.originator_id, ()):
                    watched.latest = loaded.get(notification.originator_id)
                    watched.changed.set()
            if len(batch) < BATCH:  # the log's end: no second query to learn it is empty
                return

    def _next_batch(self, waited_on: frozenset[UUID]) -> tuple[Any, dict[UUID, Any]]:
        """The next notifications, and the changed aggregates someone waits on as they
        are now (read after the notifications, so at least as new)."""
        batch = self.app.process_recorder.select_notifications(
            start=self.position or 0, limit=BATCH, inclusive_of_start=False
        )
        in_batch = {n.originator_id for n in batch}
        changed = [booking_id for booking_id in waited_on if booking_id in in_batch]
        if not changed:
            return batch, {}
        try:
            return batch, self.app.load_many(changed)
        except Exception:  # a waiter reads it itself: the wake-up must not be lost
            log.exception("booking_watch_load_failed", bookings=len(changed))
            return batch, {}

    async def _wait_for_news(self) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(self._news.wait(), self.poll_seconds)
        self._news.clear()

    async def _listen(self, listener: psycopg.AsyncConnection[Any]) -> None:
        async for _ in listener.notifies():
            self._news.set()
