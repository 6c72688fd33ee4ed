"""One transaction for rows, aggregates' new events and the inbox tracking record.

The event store is the outbox: events of aggregates saved here are published by the
relay. Writing them in the same transaction as the queue rows and the consumed
message's tracking record is what makes a consumed message's effect happen once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresProcessRecorder
from psycopg import Cursor as PgCursor
from psycopg import sql
from psycopg.rows import DictRow

from slotline.events.store import ServiceApplication

Cursor = PgCursor[DictRow]


class UnitOfWork:
    """A cursor in an open transaction plus the aggregates to save with it."""

    def __init__(self, cursor: Cursor, schema: str) -> None:
        self.cursor = cursor
        self.schema = schema
        self.aggregates: list[Aggregate] = []
        self.identities: dict[UUID, Aggregate] = {}  # one instance per aggregate

    def table(self, name: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(name))

    def _compose(self, query: str) -> sql.Composed:
        names = {part.split("}")[0] for part in query.split("{")[1:]}
        return sql.SQL(query).format(**{n: self.table(n) for n in names})  # type: ignore[arg-type]

    def execute(self, query: str, params: Any = None) -> Cursor:
        """Run ``query``, where ``{name}`` stands for the schema-qualified table ``name``."""
        return self.cursor.execute(self._compose(query), params)

    def execute_many(self, query: str, rows: list[Any]) -> None:
        """Run ``query`` once per row, pipelined (one round trip for a batch)."""
        if rows:
            self.cursor.executemany(self._compose(query), rows)

    def save(self, *aggregates: Aggregate) -> None:
        for aggregate in aggregates:
            if all(a is not aggregate for a in self.aggregates):
                self.aggregates.append(aggregate)


def schema_of(app: ServiceApplication) -> str:
    return app.schema


@contextmanager
def unit_of_work(app: ServiceApplication, tracking: Tracking | None = None) -> Iterator[UnitOfWork]:
    """Commit the work's rows, its aggregates' events and ``tracking`` together."""
    recorder = cast(PostgresProcessRecorder, app.process_recorder)
    with recorder.datastore.transaction(commit=True) as cursor:
        work = UnitOfWork(cursor, schema_of(app))
        yield work
        if tracking is not None:
            recorder._insert_tracking(cursor, tracking)
        events = [e for aggregate in work.aggregates for e in aggregate.collect_events()]
        if events:
            stored = [app.mapper.to_stored_event(e) for e in events]
            recorder._insert_stored_events(cursor, stored)


@contextmanager
def reading(app: ServiceApplication) -> Iterator[UnitOfWork]:
    """A read-only transaction."""
    recorder = cast(PostgresProcessRecorder, app.process_recorder)
    with recorder.datastore.transaction(commit=False) as cursor:
        yield UnitOfWork(cursor, schema_of(app))
