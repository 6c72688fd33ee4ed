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
from typing import Any, cast
from uuid import UUID

import anyio
import psycopg
from psycopg import sql

from slotline.events.logs import get_logger
from slotline.events.recorder import SlotlineRecorder
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
            end, grown, loaded = await anyio.to_thread.run_sync(self._next_batch, waited_on)
            self.position = end
            for _, booking_id in grown:
                for watched in self._waiters.get(booking_id, ()):
                    watched.latest = loaded.get(booking_id)
                    watched.changed.set()
            if len(grown) < BATCH:  # the log's end: no second query to learn it is empty
                return

    def _next_batch(
        self, waited_on: frozenset[UUID]
    ) -> tuple[int, list[tuple[int, UUID]], dict[UUID, Any]]:
        """The position after this batch, whose streams grew in it, and the changed
        bookings someone waits on as they are now (read after the ids, so at least as
        new). With no one waiting, nothing is read but where the log ends."""
        recorder = cast(SlotlineRecorder, self.app.process_recorder)
        position = self.position or 0
        if not waited_on:
            end = recorder.max_notification_id() or position
            if not self._waiters:  # still no one: a waiter from now on reads its
                return max(end, position), [], {}  # booking after registering
        grown = recorder.grown_since(position, BATCH)
        in_batch = {booking_id for _, booking_id in grown}
        changed = [booking_id for booking_id in waited_on if booking_id in in_batch]
        end = grown[-1][0] if grown else position
        if not changed:
            return end, grown, {}
        try:
            return end, grown, self.app.load_many(changed)
        except Exception:  # a waiter reads it itself: the wake-up must not be lost
            log.exception("booking_watch_load_failed", bookings=len(changed))
            return end, grown, {}

    async def _wait_for_news(self) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(self._news.wait(), self.poll_seconds)
        self._news.clear()

    async def _listen(self, listener: psycopg.AsyncConnection[Any]) -> None:
        async for _ in listener.notifies():
            self._news.set()
