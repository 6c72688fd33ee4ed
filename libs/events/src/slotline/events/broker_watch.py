"""Hears that the embedded broker restarted empty (the local stack NOTIFYs
``slotline_broker_restarted`` once it has made the topics again) and has the inbox read
every partition from its start: offsets on the new broker start again at 0, so a
consumer keeping its old position would skip what arrives below it. Every process with
an inbox listens, leader of its relay or not. Apache Kafka keeps its messages and
nobody NOTIFYs there, so in production this waits on an idle connection."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql

from slotline.events.logs import get_logger
from slotline.events.relay import BROKER_EPOCHS, BROKER_RESTARTED

log = get_logger(__name__)


class BrokerRestartWatch:
    """A background task: ``on_restart`` runs (on the event loop) for each NOTIFY."""

    name = "broker-restart-watch"

    def __init__(self, database_url: str, on_restart: Callable[[], None]) -> None:
        self.database_url = database_url
        self.on_restart = on_restart
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        self._stopping.clear()
        async with await psycopg.AsyncConnection.connect(
            self.database_url, autocommit=True
        ) as connection:
            await connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(BROKER_RESTARTED)))
            if await _restarted_before(connection):
                # This process may have missed the NOTIFY (it was down), and an offset
                # committed on the new broker before it died may be a stale, high one.
                log.warning("the broker restarted before this process: reading from the start")
                self.on_restart()
            notices = asyncio.ensure_future(self._follow(connection))
            stopping = asyncio.ensure_future(self._stopping.wait())
            try:
                await asyncio.wait({notices, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if notices.done():
                    notices.result()  # a dead connection: fail, and be restarted
            finally:
                for task in (notices, stopping):
                    task.cancel()

    async def _follow(self, connection: psycopg.AsyncConnection[object]) -> None:
        async for _ in connection.notifies():
            log.warning("the broker restarted empty: consumers read from the start")
            self.on_restart()

    def stop(self) -> None:
        self._stopping.set()


async def _restarted_before(connection: psycopg.AsyncConnection[object]) -> bool:
    """Whether the local stack counted a broker restart (see ``relay.BROKER_EPOCHS``)."""
    cursor = await connection.execute("SELECT to_regclass(%s)", (f"public.{BROKER_EPOCHS}",))
    found: Any = await cursor.fetchone()
    if found is None or found[0] is None:
        return False
    cursor = await connection.execute(
        sql.SQL("SELECT epoch FROM {} WHERE holder = 'broker'").format(
            sql.Identifier("public", BROKER_EPOCHS)
        )
    )
    row: Any = await cursor.fetchone()
    return row is not None and int(row[0]) > 0
