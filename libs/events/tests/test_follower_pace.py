"""A paced read model: an event after a quiet spell is handled at once, and what arrives
while it rests after a batch comes as one batch (not one wake-up per commit)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import anyio
import pytest
from eventsourcing.persistence import Notification

from slotline.events.follower import LogFollower
from slotline.events.testing.tally import Tally, TallyApplication

pytestmark = pytest.mark.integration

PACE_SECONDS = 2.0
"""Long enough for twenty commits on a busy machine, so the test does not race it."""


class Batches(LogFollower):
    """Notes the size of each batch it is handed."""

    def __init__(self, app: TallyApplication, database_url: str, *, pace_seconds: float) -> None:
        super().__init__(
            app,
            database_url=database_url,
            name="pace-test",
            idle_poll_seconds=30,  # only NOTIFY wakes it: a poll would blur the batches
            pace_seconds=pace_seconds,
        )
        self.sizes: list[int] = []
        self.handled = asyncio.Event()

    def recorded_position(self) -> int:
        return self.app.process_recorder.max_notification_id() or 0

    async def handle(self, notifications: Sequence[Notification]) -> None:
        self.sizes.append(len(notifications))
        self.handled.set()


def count_separately(app: TallyApplication, times: int) -> None:
    """Each count its own commit, as separate requests would be."""
    for _ in range(times):
        tally = Tally()
        tally.count(1)
        app.save(tally)


async def next_batch(follower: Batches) -> None:
    await asyncio.wait_for(follower.handled.wait(), 20)
    follower.handled.clear()


async def test_a_paced_follower_gathers_what_arrives_while_it_rests(
    tally_app: TallyApplication, database_url: str
) -> None:
    follower = Batches(tally_app, database_url, pace_seconds=PACE_SECONDS)
    running = asyncio.create_task(follower.run())
    try:
        while follower.state != "leading":
            await asyncio.sleep(0.05)
        await anyio.to_thread.run_sync(count_separately, tally_app, 1)
        await next_batch(follower)
        assert follower.sizes == [2]  # a Tally's creation and its count, handled at once

        # it rests now: twenty commits, one by one, become one batch after the rest
        await anyio.to_thread.run_sync(count_separately, tally_app, 20)
        await next_batch(follower)
        assert follower.sizes == [2, 40]
    finally:
        follower.stop()
        await asyncio.wait_for(running, 10)
