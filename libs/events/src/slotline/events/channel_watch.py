"""Hearing PostgreSQL channels: one background task a process, one connection, LISTENs
on every channel its listeners name and hands each NOTIFY's payload to the listener of
its channel, on the event loop. NOTIFY reaches only those listening when it commits, so
what was sent while this process was not listening (before it started, or while its
connection was down) is for each listener's ``listening`` to make good, called each
time the LISTENs are in place."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

import psycopg
from psycopg import sql


class Listener(Protocol):
    channel: str

    async def listening(self, connection: psycopg.AsyncConnection[object]) -> None:
        """The LISTEN is in place: catch up on what may have been missed."""

    def heard(self, payload: str) -> None:
        """One NOTIFY on the channel."""


class ChannelWatch:
    """A background task (``name``, ``run`` until ``stop``); a dead connection ends
    ``run`` with its error, and the runtime's supervisor starts it again."""

    name = "channel-watch"

    def __init__(self, database_url: str, listeners: Sequence[Listener]) -> None:
        self.database_url = database_url
        self.listeners = {listener.channel: listener for listener in listeners}
        self.listening_now = asyncio.Event()
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        self._stopping.clear()
        async with await psycopg.AsyncConnection.connect(
            self.database_url, autocommit=True
        ) as connection:
            for channel in self.listeners:
                await connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
            for listener in self.listeners.values():
                await listener.listening(connection)
            self.listening_now.set()
            notices = asyncio.ensure_future(self._follow(connection))
            stopping = asyncio.ensure_future(self._stopping.wait())
            try:
                await asyncio.wait({notices, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if notices.done():
                    notices.result()  # a dead connection: fail, and be restarted
            finally:
                self.listening_now.clear()
                for task in (notices, stopping):
                    task.cancel()

    async def _follow(self, connection: psycopg.AsyncConnection[object]) -> None:
        async for notice in connection.notifies():
            listener = self.listeners.get(notice.channel)
            if listener is not None:
                listener.heard(notice.payload)

    def stop(self) -> None:
        self._stopping.set()
