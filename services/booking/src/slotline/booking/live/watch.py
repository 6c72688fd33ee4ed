"""Wakes requests waiting on a booking (``POST /bookings`` answering fast, the outcome
stream) when its stream grows. Every replica follows the store's NOTIFY on its own —
no leader — because the answer may be recorded by another replica's consumer."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any
from uuid import UUID

import anyio
import psycopg
from psycopg import sql

from slotline.events.logs import get_logger
from slotline.events.store import ServiceApplication

log = get_logger(__name__)

BATCH = 1000


class BookingWatch:
    name = "booking-watch"

    def __init__(
        self, app: ServiceApplication, *, database_url: str, poll_seconds: float = 0.5
    ) -> None:
        self.app = app
        self.database_url = database_url
        self.poll_seconds = poll_seconds
        self._waiters: defaultdict[UUID, set[asyncio.Event]] = defaultdict(set)
        self._news = asyncio.Event()
        self._stopping = asyncio.Event()
        self.position: int | None = None

    @contextmanager
    def watching(self, booking_id: UUID) -> Iterator[asyncio.Event]:
        """An event set whenever the booking changes; register before reading it."""
        changed = asyncio.Event()
        self._waiters[booking_id].add(changed)
        try:
            yield changed
        finally:
            self._waiters[booking_id].discard(changed)
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
            batch = await anyio.to_thread.run_sync(self._next_batch)
            if batch:
                self.position = batch[-1].id
            for notification in batch:
                for changed in self._waiters.get(notification.originator_id, ()):
                    changed.set()
            if len(batch) < BATCH:  # the log's end: no second query to learn it is empty
                return

    def _next_batch(self) -> Any:
        return self.app.process_recorder.select_notifications(
            start=self.position or 0, limit=BATCH, inclusive_of_start=False
        )

    async def _wait_for_news(self) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(self._news.wait(), self.poll_seconds)
        self._news.clear()

    async def _listen(self, listener: psycopg.AsyncConnection[Any]) -> None:
        async for _ in listener.notifies():
            self._news.set()
