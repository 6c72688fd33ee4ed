"""Following an event store's notification log: the shared loop of relay and projections.

One follower per store and name leads (a PostgreSQL advisory lock held by its LISTEN
connection); the others stand by and take over when the leader's connection dies.
The leader reads the log in batches after its recorded position, is woken by the
store's NOTIFY on each commit (a poll backs that up), and hands each batch to
:meth:`LogFollower.handle`, which must record the new position durably.

A read model that is not on a request's path may be *paced*: after a batch it rests
``pace_seconds`` before reading the next, so under load one batch carries what a
hundred wake-ups would have (a day's slots recomputed once for many holds), while an
event after a quiet spell is still handled at once.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import suppress
from typing import Any

import anyio
import psycopg
from eventsourcing.persistence import Notification
from psycopg import sql

from slotline.events.logs import get_logger
from slotline.events.store import ServiceApplication

log = get_logger(__name__)


class LogFollower(ABC):
    """Reads one application's notification log in order, from a recorded position."""

    def __init__(
        self,
        app: ServiceApplication,
        *,
        database_url: str,
        name: str,
        batch_size: int = 500,
        idle_poll_seconds: float = 1.0,
        pace_seconds: float = 0.0,
    ) -> None:
        self.app = app
        self.database_url = database_url
        self.name = name
        self.batch_size = batch_size
        self.idle_poll_seconds = idle_poll_seconds
        self.pace_seconds = pace_seconds
        self.position: int | None = None
        self.state = "stopped"
        self._stopping = asyncio.Event()
        self._news = asyncio.Event()

    @abstractmethod
    async def handle(self, notifications: Sequence[Notification]) -> None:
        """Act on a batch and record ``notifications[-1].id`` as the new position."""

    async def settle(self) -> None:  # noqa: B027 — a hook: most followers record at once
        """Wait for any position still being recorded (none by default)."""

    async def before_batch(self) -> None:  # noqa: B027 — a hook
        """Runs before each batch is read (none by default)."""

    def recorded_position(self) -> int:
        """The last notification id handled (blocking; 0 when nothing was)."""
        return self.app.process_recorder.max_tracking_id(self.name) or 0

    def stop(self) -> None:
        self._stopping.set()

    @property
    def running(self) -> bool:
        return self.state in {"leading", "standby"}

    async def run(self) -> None:
        """Follow the log until :meth:`stop`, leading or standing by."""
        async with await psycopg.AsyncConnection.connect(
            self.database_url, autocommit=True
        ) as listener:
            self.state = "standby"
            if not await self._become_leader(listener):
                self.state = "stopped"
                return
            self.position = await anyio.to_thread.run_sync(self.recorded_position)
            channel = getattr(self.app.process_recorder, "channel_name", None)
            for name in (channel, *self.notices()):
                if name:
                    await listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(name)))
            listening = asyncio.create_task(self._listen(listener))
            self.state = "leading"
            log.info("log follower leading", follower=self.name, position=self.position)
            try:
                while not self._stopping.is_set():
                    if listening.done():
                        listening.result()  # a dead LISTEN connection: fail, be restarted
                    handled = await self.follow_once()
                    if handled and self.pace_seconds:
                        await self._rest(self.pace_seconds)
                    if handled < self.batch_size:
                        await self._wait_for_news()
            finally:
                self.state = "stopped"
                with suppress(Exception):  # a failed last record: re-read on restart
                    await self.settle()
                listening.cancel()
                with suppress(asyncio.CancelledError, psycopg.Error):
                    await listening
                log.info("log follower stopped", follower=self.name, position=self.position)

    async def follow_once(self) -> int:
        """Handle the next batch after the position; return its size."""
        if self.position is None:
            self.position = await anyio.to_thread.run_sync(self.recorded_position)
        await self.before_batch()
        notifications = await anyio.to_thread.run_sync(self._next_batch)
        if not notifications:
            return 0
        await self.handle(notifications)
        self.position = notifications[-1].id
        return len(notifications)

    async def _become_leader(self, connection: psycopg.AsyncConnection[Any]) -> bool:
        """Wait until this follower holds its lock; False if stopped first."""
        schema = self.app.schema
        lock = f"slotline-relay:{schema}:{self.app.name}:{self.name}"
        while not self._stopping.is_set():
            cursor = await connection.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (lock,))
            row = await cursor.fetchone()
            if row and row[0]:
                return True
            with suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.idle_poll_seconds)
        return False

    def _next_batch(self) -> Sequence[Notification]:
        return self.app.process_recorder.select_notifications(
            start=self.position or 0, limit=self.batch_size, inclusive_of_start=False
        )

    async def _rest(self, seconds: float) -> None:
        """Let more events gather before the next batch (a stop ends the rest)."""
        with suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _wait_for_news(self) -> None:
        """Sleep until the store NOTIFYs a commit, the follower stops, or the poll interval."""
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
        notices = set(self.notices())
        async for notify in listener.notifies():
            if notify.channel in notices:
                self.noticed(notify.channel, notify.payload)
            self._news.set()

    def notices(self) -> tuple[str, ...]:
        """Channels besides the store's own whose NOTIFYs this follower acts on."""
        return ()

    def noticed(self, channel: str, payload: str) -> None:  # noqa: B027 — a hook
        """One of :meth:`notices` was NOTIFYed (runs on the event loop)."""
