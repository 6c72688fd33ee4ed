"""What the service log leaves out: only what the design expects, never a failure."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from slotline.events.logs import quiet_expected_warnings

pytestmark = pytest.mark.unit


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


async def test_a_tick_skipped_while_a_run_goes_on_is_not_logged_but_a_failure_is() -> None:
    quiet_expected_warnings()
    kept = _Kept()
    logger = logging.getLogger("apscheduler")
    logger.addHandler(kept)
    runs = 0

    async def slow_then_failing() -> None:
        nonlocal runs
        runs += 1
        if runs == 1:
            await asyncio.sleep(0.35)  # outlasts three ticks of 0.1 s
            return
        raise RuntimeError("the sweep failed")

    scheduler = AsyncIOScheduler()
    scheduler.add_job(slow_then_failing, "interval", seconds=0.1, max_instances=1, coalesce=True)
    try:
        scheduler.start()
        deadline = time.monotonic() + 5
        while runs < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.05)
    finally:
        scheduler.shutdown(wait=False)
        logger.removeHandler(kept)
    assert runs >= 2
    assert not [m for m in kept.messages if "maximum number of running instances" in m]
    assert any("raised an exception" in m for m in kept.messages), kept.messages
