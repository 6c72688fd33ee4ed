"""Hears that the embedded broker restarted empty (the local stack NOTIFYs
``slotline_broker_restarted`` once it has made the topics again) and has the inbox read
every partition from its start: offsets on the new broker start again at 0, so a
consumer keeping its old position would skip what arrives below it. Every process with
an inbox listens, leader of its relay or not. Apache Kafka keeps its messages and
nobody NOTIFYs there: in production nothing comes on this channel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql

from slotline.events.logs import get_logger
from slotline.events.relay import BROKER_EPOCHS, BROKER_RESTARTED

log = get_logger(__name__)


class BrokerRestarts:
    """A :class:`~slotline.events.channel_watch.ChannelWatch` listener: ``on_restart``
    runs (on the event loop) for each NOTIFY."""

    channel = BROKER_RESTARTED

    def __init__(self, on_restart: Callable[[], None]) -> None:
        self.on_restart = on_restart

    async def listening(self, connection: psycopg.AsyncConnection[object]) -> None:
        if await _restarted_before(connection):
            # This process may have missed the NOTIFY (it was down), and an offset
            # committed on the new broker before it died may be a stale, high one.
            log.warning("the broker restarted before this process: reading from the start")
            self.on_restart()

    def heard(self, payload: str) -> None:
        log.warning("the broker restarted empty: consumers read from the start")
        self.on_restart()


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
