"""One transaction for rows, aggregates' new events and the inbox tracking record.

The event store is the outbox: events of aggregates saved here are published by the
relay. Writing them in the same transaction as the queue rows and the consumed
message's tracking record is what makes a consumed message's effect happen once.

The transaction is the shared unit of work of ``slotline.events``
(:meth:`ServiceApplication.unit_of_work`); this wrapper only adds the notifier's way of
naming its tables in SQL. eventsourcing's public ``insert_events(..., tracking=...)``
opens a transaction of its own, so it cannot hold the queue rows: the shared unit of
work records events and positions in *this* transaction through ``SlotlineRecorder``,
the recorder subclass the library documents as its extension point.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Tracking
from psycopg import Cursor as PgCursor
from psycopg import sql
from psycopg.rows import DictRow

from slotline.events.privacy.vault import KeyVault
from slotline.events.unit_of_work import UnitOfWork as SharedWork
from slotline.notifier.persistence.rows import MemoryRows, Rows, SqlRows

Cursor = PgCursor[DictRow]
A = TypeVar("A", bound=Aggregate)


class UnitOfWork:
    """A cursor in an open transaction plus the aggregates to save with it, and the
    use cases' rows (:attr:`rows`: in that transaction, or in memory for use-case tests,
    where there is no cursor)."""

    def __init__(
        self,
        cursor: Cursor | None,
        schema: str,
        shared: SharedWork | None = None,
        rows: MemoryRows | None = None,
        vault: KeyVault | None = None,
    ) -> None:
        self._cursor = cursor
        self.schema = schema
        self._shared = shared
        self.vault = vault
        """Seals and opens rows' personal data (None in memory: rows stay plain)."""
        self.rows: Rows = rows if rows is not None else SqlRows(self)

    @property
    def cursor(self) -> Cursor:
        if self._cursor is None:
            raise RuntimeError("SQL needs the PostgreSQL store; this unit of work is in memory")
        return self._cursor

    def _compose(self, query: str) -> bytes:
        return _rendered(self.schema, query)

    def execute(self, query: str, params: Any = None) -> Cursor:
        """Run ``query``, where ``{name}`` stands for the schema-qualified table ``name``."""
        return self.cursor.execute(self._compose(query), params)

    def execute_many(self, query: str, rows: list[Any]) -> None:
        """Run ``query`` once per row, pipelined (one round trip for a batch)."""
        if rows:
            self.cursor.executemany(self._compose(query), rows)

    def get(self, kind: type[A], aggregate_id: UUID) -> A | None:
        """The aggregate as this transaction sees it (one instance per unit of work)."""
        return self._writing().get(kind, aggregate_id)

    def save(self, *aggregates: Aggregate) -> None:
        """Commit ``aggregates``' new events with the work (each once, however often named)."""
        self._writing().add(*aggregates)

    def _writing(self) -> SharedWork:
        if self._shared is None:
            raise RuntimeError("a reading transaction saves no aggregates")
        return self._shared


class NotifierStore(Protocol):
    """What a unit of work needs of the application (``NotifierCore``)."""

    memory_rows: MemoryRows | None
    """The use cases' rows when the event store is in memory; None on PostgreSQL."""

    @property
    def schema(self) -> str: ...

    @property
    def vault(self) -> KeyVault: ...

    def unit_of_work(self) -> AbstractContextManager[SharedWork]: ...

    def reading(self) -> AbstractContextManager[Cursor]: ...


@contextmanager
def unit_of_work(app: NotifierStore, tracking: Tracking | None = None) -> Iterator[UnitOfWork]:
    """Commit the work's rows, its aggregates' events and ``tracking`` together; a
    tracking position recorded before raises ``IntegrityError`` and commits nothing."""
    with app.unit_of_work() as shared:
        if tracking is not None:
            shared.track(tracking)
        yield joined(app, shared)


def joined(app: NotifierStore, shared: SharedWork) -> UnitOfWork:
    """The notifier's rows in a unit of work opened elsewhere — an inbox batch's, where
    every consumed message of the batch is applied and tracked, and all commit at once.

    Rows are written on the work's own cursor (taking it this way forgets none of the
    work's memos: the notifier keeps none of its rows there). In memory, the messages
    of one work share one draft of the rows, kept when the work commits."""
    committed = app.memory_rows
    if committed is None:
        return UnitOfWork(shared.key_cursor, app.schema, shared, vault=app.vault)

    def draft() -> MemoryRows:
        rows = committed.draft()
        shared.after_commit(lambda: committed.take(rows))
        return rows

    return UnitOfWork(None, app.schema, shared, rows=shared.memo((_DRAFT, id(app)), draft))


_DRAFT = "notifier rows draft"


@contextmanager
def reading(app: NotifierStore) -> Iterator[UnitOfWork]:
    """A read-only transaction."""
    committed = app.memory_rows
    if committed is not None:
        yield UnitOfWork(None, app.schema, rows=committed.draft())
        return
    with app.reading() as cursor:
        yield UnitOfWork(cursor, app.schema, vault=app.vault)


def _table(schema: str, name: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))


@functools.cache
def _rendered(schema: str, query: str) -> bytes:
    """``query`` with its ``{name}`` tables in ``schema``, rendered once: composing every
    statement anew was ~5 % of the service's CPU under ``make loadtest`` (py-spy)."""
    names = {part.split("}")[0] for part in query.split("{")[1:]}
    return sql.SQL(query).format(**{n: _table(schema, n) for n in names}).as_bytes(None)
