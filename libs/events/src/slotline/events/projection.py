"""A read model kept from a service's own event store: the projections' shared shape.

A :class:`Projection` is a leader-elected :class:`~slotline.events.follower.LogFollower`
whose tables are made on first use and whose batches are projected in a worker thread
(eventsourcing and psycopg are synchronous). ``project`` writes the rows and the
position in one transaction with :meth:`Projection.record_position`, so a replayed batch
fails on the position and changes nothing.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, cast

import anyio
from eventsourcing.persistence import Notification, Tracking
from eventsourcing.postgres import PostgresProcessRecorder
from psycopg import Cursor
from psycopg.rows import DictRow

from slotline.events.follower import LogFollower
from slotline.events.store import ServiceApplication


class Projection(LogFollower):
    projection_name: ClassVar[str] = "projection"
    """Its position's name in the tracking table (and its name as a background task)."""

    def __init__(
        self,
        app: ServiceApplication,
        *,
        database_url: str,
        name: str | None = None,
        batch_size: int = 500,
        idle_poll_seconds: float = 1.0,
        pace_seconds: float = 0.0,
    ) -> None:
        super().__init__(
            app,
            database_url=database_url,
            name=name or self.projection_name,
            batch_size=batch_size,
            idle_poll_seconds=idle_poll_seconds,
            pace_seconds=pace_seconds,
        )
        self.schema = app.schema
        self._tables_ready = False

    @property
    def recorder(self) -> PostgresProcessRecorder:
        return cast(PostgresProcessRecorder, self.app.process_recorder)

    @abstractmethod
    def project(self, notifications: Sequence[Notification]) -> None:
        """Apply a batch: its rows and :meth:`record_position` in one transaction."""

    def make_tables(self, cursor: Cursor[DictRow]) -> None:
        """Create the read model's tables if missing (none by default)."""

    def create_tables(self) -> None:
        with self.recorder.datastore.transaction(commit=True) as cursor:
            self.make_tables(cursor)
        self._tables_ready = True

    def record_position(self, cursor: Cursor[Any], notifications: Sequence[Notification]) -> None:
        """Record the batch's last id as this projection's position (same transaction)."""
        self.recorder._insert_tracking(cursor, Tracking(self.name, notifications[-1].id))

    async def follow_once(self) -> int:
        if not self._tables_ready:
            await anyio.to_thread.run_sync(self.create_tables)
        return await super().follow_once()

    async def handle(self, notifications: Sequence[Notification]) -> None:
        await anyio.to_thread.run_sync(self.project, notifications)

    def catch_up(self) -> int:
        """Project every event up to the end of the log (blocking); how many there were."""
        if not self._tables_ready:
            self.create_tables()
        if self.position is None:
            self.position = self.recorded_position()
        applied = 0
        while batch := self._next_batch():
            self.project(batch)
            self.position = batch[-1].id
            applied += len(batch)
        return applied
