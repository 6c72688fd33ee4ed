"""The NOTIFY feed against a real PostgreSQL: changes reach the subscribers that want
them, and a stop ends the feed at once, whatever it was doing."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import psycopg
import pytest

from slotline.events.feed import NotifyFeed

pytestmark = pytest.mark.integration

CHANNEL = "feed_test"


def parse(data: dict[str, Any]) -> str:
    return str(data["day"])


async def notify(database_url: str, day: str) -> None:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as connection:
        await connection.execute("SELECT pg_notify(%s, %s)", (CHANNEL, json.dumps({"day": day})))


async def test_a_change_reaches_only_the_subscribers_that_want_it(database_url: str) -> None:
    feed: NotifyFeed[str] = NotifyFeed(database_url, CHANNEL, parse)
    running = asyncio.create_task(feed.run())
    await asyncio.wait_for(feed.listening.wait(), 10)
    async with (
        feed.subscribe_where(lambda day: day == "2026-12-07") as monday,
        feed.subscribe_where(lambda day: day == "2026-12-08") as tuesday,
    ):
        await notify(database_url, "2026-12-07")
        assert await asyncio.wait_for(monday.queue.get(), 10) == "2026-12-07"
        assert tuesday.queue.empty()
    feed.stop()
    await asyncio.wait_for(running, 10)


async def test_a_stop_while_a_change_is_handed_out_ends_the_feed_at_once(
    database_url: str,
) -> None:
    """A stop in the same turn as a change used to leave psycopg's generator at its
    yield, holding the connection's lock: leaving the connection then waited until the
    service's 20-s grace ran out."""
    feed: NotifyFeed[str] = NotifyFeed(database_url, CHANNEL, parse)

    def stop_on_sight(day: str) -> bool:
        feed.stop()
        return True

    running = asyncio.create_task(feed.run())
    await asyncio.wait_for(feed.listening.wait(), 10)
    async with feed.subscribe_where(stop_on_sight) as subscriber:
        await notify(database_url, "2026-12-07")
        await asyncio.wait_for(running, 5)
        assert subscriber.queue.get_nowait() is None  # dropped at the stop: reconnect
    assert not feed.listening.is_set()
