"""The expiry job: lapsed holds are expired even when no request arrives.

A lapsed hold already counts as free to slot finding; expiring it records the fact,
publishes ``HoldExpired`` and lets the live view show the slot again. APScheduler
runs the sweep; any replica may run it (expiring twice is a no-op).
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import anyio
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from eventsourcing.postgres import PostgresProcessRecorder

from slotline.availability.application import AvailabilityApplication
from slotline.availability.catalog_admin import ContentionTooHigh, UnknownItem
from slotline.availability.domain.hold import InvalidTransition
from slotline.availability.live import queries
from slotline.events.logs import get_logger

log = get_logger(__name__)


class HoldExpiry:
    """Sweeps the hold view for lapsed holds on a fixed interval."""

    name = "hold-expiry"

    def __init__(
        self, app: AvailabilityApplication, *, interval_seconds: float = 1.0, batch_size: int = 200
    ) -> None:
        self.app = app
        self.interval_seconds = interval_seconds
        self.batch_size = batch_size
        self.expired = 0
        self._stopping = asyncio.Event()

    def sweep(self) -> int:
        """Expire the holds that have lapsed by now; returns how many (blocking)."""
        recorder = cast(PostgresProcessRecorder, self.app.process_recorder)
        schema = self.app.env.get("POSTGRES_SCHEMA") or "public"
        try:
            with recorder.datastore.transaction(commit=False) as cursor:
                lapsed = queries.lapsed_holds(cursor, schema, self.app.clock(), self.batch_size)
        except Exception as error:  # the view's tables may not exist yet
            log.debug("expiry sweep skipped", error=repr(error))
            return 0
        count = 0
        for hold_id in lapsed:
            try:
                self.app.expire_hold(hold_id)
                count += 1
            except (UnknownItem, InvalidTransition, ContentionTooHigh) as error:
                log.warning("hold not expired", hold_id=str(hold_id), error=repr(error))
        self.expired += count
        return count

    async def run(self) -> None:
        scheduler = AsyncIOScheduler()
        scheduler.add_job(
            self._sweep_async,
            "interval",
            seconds=self.interval_seconds,
            max_instances=1,
            coalesce=True,
            id=self.name,
        )
        scheduler.start()
        try:
            await self._stopping.wait()
        finally:
            scheduler.shutdown(wait=False)

    def stop(self) -> None:
        self._stopping.set()

    async def _sweep_async(self) -> Any:
        return await anyio.to_thread.run_sync(self.sweep)
