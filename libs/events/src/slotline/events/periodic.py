"""A background task that runs a blocking sweep on a fixed interval (APScheduler),
for the timer jobs of every service: hold expiry, saga deadlines, reminders, SLAs.

The sweep reads due work from the database, so any replica may run it and a restart
loses nothing; it runs in a worker thread, never twice at once, and a missed tick is
coalesced into the next one.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod

import anyio
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from slotline.events.logs import get_logger

log = get_logger(__name__)
# Every tick would log twice at INFO; failures still reach WARNING.
logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)


class PeriodicJob(ABC):
    name: str = "periodic-job"

    def __init__(self, *, interval_seconds: float) -> None:
        self.interval_seconds = interval_seconds
        self._stopping = asyncio.Event()

    @abstractmethod
    def sweep(self) -> int:
        """Do the due work (blocking); how many items were handled."""

    async def run(self) -> None:
        scheduler = AsyncIOScheduler()
        scheduler.add_job(
            self._sweep_in_thread,
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

    async def _sweep_in_thread(self) -> int:
        try:
            return await anyio.to_thread.run_sync(self.sweep)
        except Exception as error:  # the next tick tries again; say why this one failed
            log.warning("periodic job failed", job=self.name, error=repr(error))
            return 0
