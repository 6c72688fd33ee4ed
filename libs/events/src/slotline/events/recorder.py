"""The PostgreSQL recorder every service's store uses: eventsourcing's process recorder,
extended (the library's documented way: a subclass named by ``PROCESS_RECORDER_TOPIC``)
so that one transaction can hold read-model rows, new domain events and *many* inbox
positions — what a unit of work and a batch of consumed messages need.

The events table is still locked for the insert (notification ids are issued in commit
order, so followers never skip a gap); the lock is taken only at the end of a unit of
work, and the lock, the insert and the COMMIT go to the server together (psycopg's
pipeline mode): the lock is held while the server works, not while a busy client
process gets round to sending the next statement.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from functools import cached_property
from typing import Any, cast

import psycopg
from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    StoredEvent,
    Tracking,
)
from eventsourcing.postgres import PostgresDatastore, PostgresFactory, PostgresProcessRecorder
from eventsourcing.utils import Environment, EnvType, retry
from psycopg import Connection, Cursor, sql
from psycopg.errors import PipelineAborted
from psycopg.pq import TransactionStatus
from psycopg.rows import DictRow

APPLICATION_NAME_ENV = "POSTGRES_APPLICATION_NAME"
"""The name a service's pooled connections give PostgreSQL (``application_name``)."""


class SlotlineDatastore(PostgresDatastore):
    """eventsourcing's datastore, but a transaction that only read ends with COMMIT.

    psycopg forgets every prepared statement of a connection on ROLLBACK (a rollback
    might have undone the DDL they were planned on): it sends ``DEALLOCATE ALL`` and
    plans each statement afresh. eventsourcing ends reads with ROLLBACK, so a busy
    service re-planned its hot statements after nearly every read (bench-booking at 10
    bookings/s: 700 ROLLBACK and 695 DEALLOCATE ALL in 10 s). For a transaction that
    wrote nothing, COMMIT and ROLLBACK do the same; an exception still rolls back.
    """

    @contextmanager
    def transaction(self, *, commit: bool = False) -> Iterator[Cursor[DictRow]]:
        with self.get_connection() as conn:
            try:
                with ExitStack() as tail:  # left after the COMMIT (see commit_together)
                    self._tails[id(conn)] = tail
                    try:
                        with conn.transaction():
                            yield conn.cursor()
                    finally:
                        del self._tails[id(conn)]
            except BaseException as error:
                # An error reported only when the pipeline ended (after the COMMIT was
                # queued) leaves the transaction failed: the pool gets it back clean.
                if conn.info.transaction_status == TransactionStatus.INERROR:
                    conn.rollback()
                first = error.__context__
                if isinstance(error, PipelineAborted) and isinstance(first, psycopg.Error):
                    # Ending the pipeline after its error says only "aborted": the
                    # error itself (a lost race's unique violation) is what callers
                    # act on.
                    raise first from None
                raise

    @cached_property
    def _tails(self) -> dict[int, ExitStack]:
        """Each open transaction's connection (by id): what ends after its COMMIT."""
        return {}

    def commit_together(self, cursor: Cursor[DictRow]) -> None:
        """From here to the COMMIT, ``cursor``'s statements go to the server together,
        with the COMMIT (pipeline mode; their results, and any error, are read once it
        is sent). ``cursor`` must be in one of this datastore's transactions."""
        conn: Connection[DictRow] = cursor.connection
        tail = self._tails.get(id(conn))
        if tail is None:
            raise RuntimeError("commit_together needs a cursor of this datastore's transaction")
        tail.enter_context(conn.pipeline())


class Factory(PostgresFactory):
    """eventsourcing's PostgreSQL factory with :class:`SlotlineDatastore` (named by
    ``PERSISTENCE_MODULE``)."""

    def __init__(self, env: Environment | EnvType | None):
        super().__init__(env)
        self.datastore.__class__ = SlotlineDatastore  # same state, reads end in COMMIT
        name, connecting = self.env.get(APPLICATION_NAME_ENV), self.datastore.pool.kwargs
        if name and isinstance(connecting, dict):  # pg_stat_activity: whose connection it is
            connecting["application_name"] = name


class SlotlineRecorder(PostgresProcessRecorder):
    """Events, tracking and a service's own rows in one transaction."""

    @contextmanager
    def transaction(self, *, commit: bool = True) -> Iterator[Cursor[DictRow]]:
        """A cursor in a new transaction (committed at the end unless ``commit=False``)."""
        with self.datastore.transaction(commit=commit) as cursor:
            yield cursor

    @contextmanager
    def alone(self) -> Iterator[Cursor[DictRow]]:
        """A cursor for ONE statement, run outside any transaction block (the pool's
        connections autocommit): a statement is atomic by itself, and BEGIN and COMMIT
        around it are two round trips more. PostgreSQL's statement log of bench-booking at
        50/s: ~2 such transactions a booking (a relay's position, an aggregate read), 11 %
        of all statements their BEGIN and COMMIT. Never for statements that must see or
        change things together."""
        with self.datastore.get_connection() as conn:
            yield conn.cursor()

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as the library's
    def insert_tracking(self, tracking: Tracking) -> None:
        """One position (a relay's, after the broker acknowledged its batch): a statement
        alone, not a transaction of its own."""
        with self.alone() as cursor:
            self.track(cursor, [tracking])

    def record(
        self,
        cursor: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        trackings: Sequence[Tracking] = (),
    ) -> None:
        """Insert ``stored_events`` and ``trackings`` in ``cursor``'s transaction.

        Raises ``IntegrityError`` when an event's version exists already (another writer
        won the race) or a tracking position is not past the recorded one (the message
        was applied before); the caller rolls the transaction back.
        """
        self.track(cursor, trackings)
        if not stored_events:
            return
        cast(SlotlineDatastore, self.datastore).commit_together(cursor)
        for statement in self._lock_and_notify_statements:
            cursor.execute(statement)
        self._insert_event_rows(cursor, stored_events)

    @cached_property
    def _lock_and_notify_statements(self) -> list[bytes]:
        """The library's lock (with its timeout) and the followers' NOTIFY, one by one: a
        pipeline sends each with the extended protocol, which takes one statement at a
        time. Rendered once, to bytes, as the recorder's other statements: psycopg renders
        a composed statement again on every execute (1-2 % of each service's CPU at 50
        bookings/s, py-spy)."""
        return [
            *(_rendered(statement) for statement in self.lock_table_statements),
            sql.SQL("NOTIFY {}").format(sql.Identifier(self.channel_name)).as_bytes(None),
        ]

    def _insert_event_rows(
        self, cursor: Cursor[DictRow], stored_events: Sequence[StoredEvent]
    ) -> None:
        """One insert of typed arrays sent in binary. The library's insert sends an
        array of a composite type as text, every event's state hex-escaped: dumping it
        was 5-6 % of the booking and availability processes at saturation (py-spy)."""
        cursor.execute(
            self._insert_event_rows_statement,
            (
                [e.originator_id for e in stored_events],
                [e.originator_version for e in stored_events],
                [e.topic for e in stored_events],
                [e.state for e in stored_events],
            ),
            prepare=True,
        )

    @cached_property
    def _insert_event_rows_statement(self) -> bytes:
        return (
            sql.SQL(
                "INSERT INTO {}.{} (originator_id, originator_version, topic, state)"
                " SELECT * FROM unnest(%b::{}[], %b::bigint[], %b::text[], %b::bytea[])"
            )
            .format(
                sql.Identifier(self.datastore.schema),
                sql.Identifier(self.events_table_name),
                sql.SQL(self.datastore.originator_id_type),  # "uuid" or "text", checked by it
            )
            .as_bytes(None)
        )

    def track(self, cursor: Cursor[DictRow], trackings: Sequence[Tracking]) -> None:
        """Record positions: each name once (its highest), all in one statement."""
        highest: dict[str, int] = {}
        for tracking in trackings:
            name = tracking.application_name
            highest[name] = max(highest.get(name, 0), tracking.notification_id)
        if not highest:
            return
        self._check_has_multi_row_tracking_table(cursor)
        names, positions = list(highest), list(highest.values())
        cursor.execute(self._insert_many_statement, (names, positions), prepare=True)
        recorded = len(cursor.fetchall())
        if recorded != len(names):
            raise IntegrityError(f"{len(names) - recorded} of {len(names)} positions recorded")

    def _insert_tracking(self, curs: Cursor[DictRow], tracking: Tracking) -> None:
        """One position (eventsourcing's callers: ``insert_tracking``, projections), by
        :meth:`track`'s statement, rendered once; the library's is composed again on every
        execute."""
        self.track(curs, [tracking])

    def positions(
        self, names: Sequence[str], cursor: Cursor[DictRow] | None = None
    ) -> dict[str, int]:
        """The recorded position of each of ``names`` that has one (one query; in
        ``cursor``'s transaction when given)."""
        if not names:
            return {}
        statement = self._positions_statement
        if cursor is not None:
            cursor.execute(statement, (list(names),), prepare=True)
            rows: Sequence[Mapping[str, Any]] = cursor.fetchall()
        else:
            with self.alone() as own:
                own.execute(statement, (list(names),), prepare=True)
                rows = own.fetchall()
        return {row["application_name"]: int(row["position"]) for row in rows}

    def grown_since(self, position: int, limit: int) -> list[tuple[int, Any]]:
        """``(notification id, originator id)`` of up to ``limit`` events after
        ``position``, without their bodies: what a watch needs to learn whose stream
        grew (reading every event's sealed state to learn that was most of its cost)."""
        with self.alone() as cursor:
            cursor.execute(self._grown_since_statement, (position, limit), prepare=True)
            return [(row["notification_id"], row["originator_id"]) for row in cursor.fetchall()]

    @cached_property
    def _grown_since_statement(self) -> bytes:
        return (
            sql.SQL(
                "SELECT notification_id, originator_id FROM {}.{}"
                " WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
            )
            .format(sql.Identifier(self.datastore.schema), sql.Identifier(self.events_table_name))
            .as_bytes(None)
        )

    @cached_property
    def _positions_statement(self) -> bytes:
        return (
            sql.SQL(
                "SELECT application_name, max(notification_id) AS position FROM {}.{}"
                " WHERE application_name = ANY(%s) GROUP BY application_name"
            )
            .format(sql.Identifier(self.datastore.schema), sql.Identifier(self.tracking_table_name))
            .as_bytes(None)
        )

    @cached_property
    def _insert_many_statement(self) -> bytes:
        """Composed once (composing it for every unit of work was 1.1 % of the booking
        process, py-spy); names and positions go in binary."""
        table = sql.SQL("{}.{}").format(
            sql.Identifier(self.datastore.schema), sql.Identifier(self.tracking_table_name)
        )
        if self.datastore.single_row_tracking:
            return (
                sql.SQL(
                    "INSERT INTO {table} AS t (application_name, notification_id)"
                    " SELECT * FROM unnest(%b::text[], %b::bigint[])"
                    " ON CONFLICT (application_name) DO UPDATE"
                    " SET notification_id = EXCLUDED.notification_id"
                    " WHERE t.notification_id < EXCLUDED.notification_id"
                    " RETURNING t.notification_id"
                )
                .format(table=table)
                .as_bytes(None)
            )
        return (
            sql.SQL(
                "INSERT INTO {table} (application_name, notification_id)"
                " SELECT * FROM unnest(%b::text[], %b::bigint[]) RETURNING notification_id"
            )
            .format(table=table)
            .as_bytes(None)
        )


def _rendered(statement: Any) -> bytes:
    """A statement as the bytes psycopg sends (rendered once, not on every execute)."""
    if isinstance(statement, sql.Composable):
        return statement.as_bytes(None)
    return statement if isinstance(statement, bytes) else str(statement).encode()
