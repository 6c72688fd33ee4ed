"""A table a service keeps beside its events (a directory, the privacy vault's keys):
made once, in a transaction of its own (a unit of work that rolls back keeps it), and
written in the unit of work open in this thread — so a row is kept only with the events
it goes with, and no second connection is taken meanwhile — or in a transaction of its
own when none is open."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from psycopg import Cursor, sql
from psycopg.rows import DictRow

from slotline.events.unit_of_work import UnitOfWork, current_work

T = TypeVar("T")


def creating(cursor: Cursor[Any], table: str) -> None:
    """Before a ``CREATE … IF NOT EXISTS`` made at first use: wait for any other creator
    of ``table`` (a transaction-scoped advisory lock). Two transactions creating one
    table at once collide in PostgreSQL's catalogue even with ``IF NOT EXISTS``
    (``pg_type_typname_nsp_index``): a fresh service's first two concurrent writes got a
    503. Once the first commits, the second finds the table and does nothing."""
    cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"slotline-ddl:{table}",))


class SideTable:
    def __init__(self, datastore: Any, schema: str, name: str, columns: str) -> None:
        self.datastore = datastore
        self.name = sql.Identifier(schema, name)
        self._table = f"{schema}.{name}"
        self._ddl = sql.SQL("CREATE TABLE IF NOT EXISTS {} (" + columns + ")").format(self.name)
        self._ready = False

    def ensure(self) -> None:
        if self._ready:
            return
        with self.datastore.transaction(commit=True) as cursor:
            creating(cursor, self._table)
            cursor.execute(self._ddl)
        self._ready = True

    def run(self, act: Callable[[Cursor[DictRow], UnitOfWork | None], T], alone: bool = False) -> T:
        """``act`` with a cursor, and the unit of work it belongs to (None: its own,
        always so when ``alone``)."""
        self.ensure()
        work = None if alone else current_work()
        if work is not None and (cursor := work.key_cursor) is not None:
            return act(cursor, work)
        with self.datastore.transaction(commit=True) as cursor:
            return act(cursor, None)
