"""The chaos run's projection check: each read model rebuilt from its event store equals
what the running service's projection wrote through the kills.

The rebuild runs in this process with the projection's own class, reading the service's
store from its first event, but writing into a scratch schema of the same database (its
position is not recorded: the service's ``slot-view`` and ``booking-board`` positions are
left alone). Then both copies are compared in SQL, row by row:

- availability's ``slot_view`` (``SlotProjection``): the meaningful columns (status, free
  resources, seats, alternatives, resources, duration, notice), not ``slot_day``'s
  revision and ``computed_at``. A slot's status depends on the instant it was computed at
  (a start inside the minimum notice is no longer offered), so the rebuild computes every
  day at one instant and only the slots a reader could still be offered then are
  compared (start after that instant plus the notice, and not on the horizon's last day,
  where a start is offered once the clock brings it within the horizon: a day computed
  at 11:25 lacks the 11:30 start that the rebuild at 11:34 offers); the days themselves
  are compared too (a day missing from one copy). ``hold_view`` is compared whole.
- booking's ``booking_view`` (``BookingBoard``) whole, and the timeline lines that board
  writes (``entry_id`` ``booking:…``).

Compared once every request is final, no hold is left held (a hold's expiry is an event:
after it, no slot depends on the clock but through the notice) and the service's
projection has applied its store's last event.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg
from eventsourcing.persistence import Notification
from psycopg import Cursor, sql
from support import say

from slotline.availability.application import AvailabilityApplication
from slotline.availability.live.projection import PROJECTION_NAME as SLOT_PROJECTION
from slotline.availability.live.projection import SlotProjection
from slotline.booking.application import BookingApplication
from slotline.booking.live import board as booking_board
from slotline.booking.live.projection import PROJECTION_NAME as BOARD_PROJECTION
from slotline.booking.live.projection import BookingBoard
from slotline.call_intake.application import CallIntakeApplication
from slotline.call_intake.live.projection import PROJECTION_NAME as INTAKE_PROJECTION
from slotline.call_intake.live.projection import IntakeProjection
from slotline.events.privacy.read_models import ReadModelSeal
from slotline.events.store import postgres_env

SLOT_COLUMNS = (
    "tenant_id",
    "service_id",
    "location_id",
    "local_day",
    "slot_start",
    "slot_end",
    "status",
    "free_resources",
    "seats_left",
    "alternatives",
    "resource_ids",
    "duration_minutes",
    "notice_minutes",
)
HOLD_COLUMNS = (
    "hold_id",
    "tenant_id",
    "hold_key",
    "booking_request_id",
    "service_id",
    "location_id",
    "slot_start",
    "slot_end",
    "occupied_start",
    "occupied_end",
    "resource_ids",
    "seats",
    "status",
    "expires_at",
    "version",
)
TIMELINE_COLUMNS = (
    "entry_id",
    "tenant_id",
    "occurred_at",
    "kind",
    "summary",
    "phone",
    "email",
    "booking_id",
)


EVERY_ROW = sql.SQL("TRUE")


class ScratchSlotView(SlotProjection):
    """The slot projection writing into ``scratch``, at one instant, from the first event."""

    def __init__(
        self, app: AvailabilityApplication, database_url: str, scratch: str, at: datetime
    ) -> None:
        super().__init__(app, database_url=database_url, clock=lambda: at)
        self.schema = scratch
        self.position = 0

    def record_position(self, cursor: Cursor[Any], notifications: Sequence[Notification]) -> None:
        """A scratch copy: the service's own position stays where it is."""


class ScratchBoard(BookingBoard):
    """The booking board writing into ``scratch`` from the first event."""

    def __init__(self, app: BookingApplication, database_url: str, scratch: str) -> None:
        super().__init__(app, database_url=database_url)
        self.schema = scratch
        self.position = 0

    def make_tables(self, cursor: Cursor[Any]) -> None:
        booking_board.create_tables(cursor, self.schema)

    def record_position(self, cursor: Cursor[Any], notifications: Sequence[Notification]) -> None:
        """A scratch copy: the service's own position stays where it is."""


def caught_up(app: Any, name: str, timeout: float = 120) -> None:
    """Wait until the running service's projection ``name`` has applied the last event of
    its store (it may still be coming back from a kill, or be a batch behind)."""
    deadline = time.monotonic() + timeout
    last = app.recorder.max_notification_id() or 0
    while True:
        position = app.process_recorder.max_tracking_id(name) or 0
        if position >= last:
            return
        if time.monotonic() > deadline:
            say(f"projection {name} still at {position} of {last}: compared as it is")
            return
        time.sleep(1)


def _fresh_schema(database_url: str, scratch: str) -> None:
    _drop_schema(database_url, scratch)
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(scratch)))


def _drop_schema(database_url: str, scratch: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(scratch))
        )


def _differing(
    connection: psycopg.Connection[Any],
    table: str,
    live: str,
    scratch: str,
    columns: Sequence[str],
    key: Sequence[str],
    where: sql.Composable = EVERY_ROW,
    params: Sequence[Any] = (),
) -> list[tuple[Any, ...]]:
    """Keys of the rows of ``table`` that differ between the two schemas (a row missing
    from one copy, or with another value in any of ``columns``)."""
    cols = sql.SQL(", ").join(map(sql.Identifier, columns))
    keys = sql.SQL(", ").join(map(sql.Identifier, key))

    def side(a: str, b: str) -> sql.Composed:
        return sql.SQL(
            "(SELECT {cols} FROM {ta} t WHERE {w} EXCEPT SELECT {cols} FROM {tb} t WHERE {w})"
        ).format(cols=cols, ta=sql.Identifier(a, table), tb=sql.Identifier(b, table), w=where)

    query = sql.SQL("SELECT DISTINCT {keys} FROM ({a} UNION ALL {b}) d ORDER BY {keys}").format(
        keys=keys, a=side(live, scratch), b=side(scratch, live)
    )
    return list(connection.execute(query, [*params, *params, *params, *params]).fetchall())


SEALED_JSON = frozenset({"detail"})
"""Sealed columns that hold JSON (the others hold text)."""


def _differing_opened(
    connection: psycopg.Connection[Any],
    table: str,
    live: str,
    scratch: str,
    columns: Sequence[str],
    key: Sequence[str],
    sealed: Sequence[str],
    seal: ReadModelSeal,
    where: sql.Composable = EVERY_ROW,
    params: Sequence[Any] = (),
) -> list[tuple[Any, ...]]:
    """As :func:`_differing`, for a table with ``sealed`` columns: every seal has its own
    nonce, so the copies are compared on what those columns say, opened."""

    def rows(schema: str) -> dict[tuple[Any, ...], dict[str, Any]]:
        query = sql.SQL("SELECT {} FROM {} t WHERE {}").format(
            sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(schema, table), where
        )
        found: dict[tuple[Any, ...], dict[str, Any]] = {}
        for values in connection.execute(query, list(params)).fetchall():
            row = dict(zip(columns, values, strict=True))
            for column in sealed:
                opened = seal.open_json if column in SEALED_JSON else seal.open
                row[column] = opened(row["tenant_id"], row[column])
            found[tuple(row[k] for k in key)] = row
        return found

    mine, rebuilt = rows(live), rows(scratch)
    return sorted(k for k in mine.keys() | rebuilt.keys() if mine.get(k) != rebuilt.get(k))


def _compared(
    connection: psycopg.Connection[Any],
    table: str,
    schema: str,
    where: sql.Composable = EVERY_ROW,
    params: Sequence[Any] = (),
) -> int:
    """How many rows of the live copy the comparison covered (0 would prove nothing)."""
    query = sql.SQL("SELECT count(*) FROM {} t WHERE {}").format(
        sql.Identifier(schema, table), where
    )
    row = connection.execute(query, list(params)).fetchone()
    return int(row[0]) if row else 0


def slot_view_violations(database_url: str, schema: str = "availability") -> int:
    """Slots, days and holds of availability's live view that differ from a rebuild."""
    scratch = f"{schema}_chaos_rebuild"
    at = datetime.now(UTC)
    _fresh_schema(database_url, scratch)
    app = AvailabilityApplication(env=postgres_env(database_url, schema, pool_size=2))
    try:
        caught_up(app, SLOT_PROJECTION)
        projection = ScratchSlotView(app, database_url, scratch, at)
        events = projection.catch_up()
        say(f"slot view rebuilt from {events} events in {scratch}")
        offered = sql.SQL(
            "t.slot_start >= %s + t.notice_minutes * interval '1 minute'"
            " AND (t.service_id, t.location_id, t.local_day) IN"
            " (SELECT service_id, location_id, local_day FROM {})"
            " AND (t.service_id, t.location_id, t.local_day) IN"
            " (SELECT service_id, location_id, local_day FROM {})"
            " AND (t.service_id, t.location_id, t.local_day) NOT IN"
            " (SELECT service_id, location_id, max(local_day) FROM {} GROUP BY 1, 2)"
        ).format(
            sql.Identifier(schema, "slot_day"),
            sql.Identifier(scratch, "slot_day"),
            sql.Identifier(schema, "slot_day"),
        )
        with psycopg.connect(database_url) as connection:
            slots = _differing(
                connection,
                "slot_view",
                schema,
                scratch,
                SLOT_COLUMNS,
                ("service_id", "location_id", "slot_start"),
                offered,
                (at,),
            )
            days = _differing(
                connection,
                "slot_day",
                schema,
                scratch,
                ("service_id", "location_id", "local_day"),
                ("service_id", "location_id", "local_day"),
            )
            holds = _differing(connection, "hold_view", schema, scratch, HOLD_COLUMNS, ("hold_id",))
            say(
                f"slot view compared: {_compared(connection, 'slot_view', schema, offered, (at,))}"
                f" slots, {_compared(connection, 'slot_day', schema)} days,"
                f" {_compared(connection, 'hold_view', schema)} holds"
            )
    finally:
        app.close()
        _drop_schema(database_url, scratch)
    for name, rows in (("slots", slots), ("days", days), ("holds", holds)):
        if rows:
            say(f"slot view {name} unlike the rebuild ({len(rows)}): {rows[:10]}")
    return len(slots) + len(days) + len(holds)


def booking_board_violations(database_url: str, schema: str = "booking") -> int:
    """Rows of booking's board (and its booking lines of the timeline) unlike a rebuild."""
    scratch = f"{schema}_chaos_rebuild"
    _fresh_schema(database_url, scratch)
    app = BookingApplication(env=postgres_env(database_url, schema, pool_size=2))
    try:
        caught_up(app, BOARD_PROJECTION)
        projection = ScratchBoard(app, database_url, scratch)
        events = projection.catch_up()
        say(f"booking board rebuilt from {events} events in {scratch}")
        with psycopg.connect(database_url) as connection:
            columns = [
                row[0]
                for row in connection.execute(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_schema = %s AND table_name = 'booking_view'",
                    (scratch,),
                ).fetchall()
            ]
            bookings = _differing_opened(
                connection,
                "booking_view",
                schema,
                scratch,
                columns,
                ("booking_id",),
                ("customer_name", "phone", "email"),
                app.read_seal,
            )
            lines = _differing_opened(
                connection,
                "timeline",
                schema,
                scratch,
                TIMELINE_COLUMNS,
                ("entry_id",),
                ("summary", "phone", "email"),
                app.read_seal,
                sql.SQL("t.entry_id LIKE 'booking:%%'"),
            )
            say(
                f"booking board compared: {_compared(connection, 'booking_view', schema)}"
                " bookings, "
                + str(
                    _compared(
                        connection,
                        "timeline",
                        schema,
                        sql.SQL("t.entry_id LIKE %s"),
                        ("booking:%",),
                    )
                )
                + " timeline lines"
            )
    finally:
        app.close()
        _drop_schema(database_url, scratch)
    for name, rows in (("bookings", bookings), ("timeline lines", lines)):
        if rows:
            say(f"booking board {name} unlike the rebuild ({len(rows)}): {rows[:10]}")
    return len(bookings) + len(lines)


class ScratchIntake(IntakeProjection):
    """Call-intake's projection writing into ``scratch`` from the first event. (Its
    NOTIFYs of changed tasks reach the live queue feed, which shows those tasks' live
    rows again: nothing a reader would see change.)"""

    def __init__(self, app: CallIntakeApplication, database_url: str, scratch: str) -> None:
        super().__init__(app, database_url=database_url)
        self.schema = scratch
        self.position = 0

    def record_position(self, cursor: Cursor[Any], notifications: Sequence[Notification]) -> None:
        """A scratch copy: the service's own position stays where it is."""


INTAKE_TABLES = {
    "callback_queue": (("task_id",), ("customer_phone",)),
    "call_log": (("call_id",), ("from_phone",)),
    "timeline": (("position", "kind"), ("phone", "detail")),
    "party": (("aggregate_id",), ("phone",)),
}
"""Each table of call-intake's read model: its key, and its sealed columns."""


def _columns(connection: psycopg.Connection[Any], schema: str, table: str) -> list[str]:
    return [
        row[0]
        for row in connection.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            (schema, table),
        ).fetchall()
    ]


def intake_view_violations(database_url: str, schema: str = "call_intake") -> int:
    """Rows of call-intake's read model (callback queue, call log, timelines, parties)
    unlike a rebuild from its store."""
    scratch = f"{schema}_chaos_rebuild"
    _fresh_schema(database_url, scratch)
    app = CallIntakeApplication(env=postgres_env(database_url, schema, pool_size=2))
    differing: dict[str, list[tuple[Any, ...]]] = {}
    try:
        caught_up(app, INTAKE_PROJECTION)
        events = ScratchIntake(app, database_url, scratch).catch_up()
        say(f"intake view rebuilt from {events} events in {scratch}")
        with psycopg.connect(database_url) as connection:
            compared = []
            for table, (key, sealed) in INTAKE_TABLES.items():
                columns = _columns(connection, scratch, table)
                differing[table] = _differing_opened(
                    connection, table, schema, scratch, columns, key, sealed, app.read_seal
                )
                compared.append(f"{_compared(connection, table, schema)} {table}")
            say(f"intake view compared: {', '.join(compared)} rows")
    finally:
        app.close()
        _drop_schema(database_url, scratch)
    for table, rows in differing.items():
        if rows:
            say(f"intake view {table} unlike the rebuild ({len(rows)}): {rows[:10]}")
    return sum(len(rows) for rows in differing.values())


def projection_rebuild_violations(database_url: str) -> dict[str, int]:
    """Per projection of a service's own store: rows unlike a rebuild from that store."""
    return {
        "slot_view_rebuild": slot_view_violations(database_url),
        "booking_board_rebuild": booking_board_violations(database_url),
        "intake_view_rebuild": intake_view_violations(database_url),
    }
