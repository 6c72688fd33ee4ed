"""The live view's tables: free slots per service × location × day, and holds.

Written only by the slot projection (in the transaction that records its position),
read by the HTTP API, the SSE feed and the expiry job. Plain SQL on the service's own
schema; the projection rebuilds both tables from the event store at any time.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from psycopg import Cursor, sql
from psycopg.rows import DictRow

from slotline.availability.domain.hold import Hold
from slotline.availability.domain.slots import SlotView
from slotline.availability.domain.values import Interval, ServiceDefinition

SLOTS_CHANGED_CHANNEL = "availability_slots_changed"
"""NOTIFY channel: one JSON payload per recomputed day, sent when its rows commit."""

_DDL = """
CREATE TABLE IF NOT EXISTS {schema}.slot_view (
    tenant_id text NOT NULL,
    service_id uuid NOT NULL,
    location_id uuid NOT NULL,
    local_day date NOT NULL,
    slot_start timestamptz NOT NULL,
    slot_end timestamptz NOT NULL,
    status text NOT NULL,
    free_resources int NOT NULL,
    seats_left int,
    alternatives int NOT NULL,
    resource_ids uuid[] NOT NULL,
    duration_minutes int NOT NULL,
    notice_minutes int NOT NULL,
    PRIMARY KEY (service_id, location_id, local_day, slot_start)
);
ALTER TABLE {schema}.slot_view ADD COLUMN IF NOT EXISTS answer json;
CREATE INDEX IF NOT EXISTS slot_view_by_location
    ON {schema}.slot_view (location_id, slot_start);
CREATE INDEX IF NOT EXISTS slot_view_by_service
    ON {schema}.slot_view (service_id, slot_start);
CREATE TABLE IF NOT EXISTS {schema}.slot_day (
    service_id uuid NOT NULL,
    location_id uuid NOT NULL,
    local_day date NOT NULL,
    revision bigint NOT NULL,
    computed_at timestamptz NOT NULL,
    PRIMARY KEY (service_id, location_id, local_day)
);
ALTER TABLE {schema}.slot_day ADD COLUMN IF NOT EXISTS tenant_id text;
ALTER TABLE {schema}.slot_day ADD COLUMN IF NOT EXISTS published_revision bigint;
CREATE INDEX IF NOT EXISTS slot_day_unpublished ON {schema}.slot_day (revision)
    WHERE published_revision IS DISTINCT FROM revision;
CREATE TABLE IF NOT EXISTS {schema}.hold_view (
    hold_id uuid PRIMARY KEY,
    tenant_id text NOT NULL,
    hold_key text NOT NULL,
    booking_request_id text,
    service_id uuid NOT NULL,
    location_id uuid NOT NULL,
    slot_start timestamptz NOT NULL,
    slot_end timestamptz NOT NULL,
    occupied_start timestamptz NOT NULL,
    occupied_end timestamptz NOT NULL,
    resource_ids uuid[] NOT NULL,
    seats int NOT NULL,
    status text NOT NULL,
    expires_at timestamptz,
    version int NOT NULL
);
CREATE INDEX IF NOT EXISTS hold_view_lapsing
    ON {schema}.hold_view (expires_at) WHERE status = 'held';
CREATE INDEX IF NOT EXISTS hold_view_by_tenant
    ON {schema}.hold_view (tenant_id, slot_start);
"""


@dataclass(frozen=True)
class DayKey:
    """One day of one service's live view."""

    tenant_id: str
    service_id: UUID
    location_id: UUID
    day: date


SLOT_ANSWER = (
    'service_id, location_id, local_day AS day, slot_start AS start, slot_end AS "end",'
    " status, free_resources, seats_left, alternatives, resource_ids, duration_minutes"
)
"""A slot as ``GET /v1/slots`` answers it: these columns under these names, made JSON by
``row_to_json`` when the projector writes the row (the ``answer`` column)."""


def create_tables(cursor: Cursor[DictRow], schema: str) -> None:
    cursor.execute(
        "SELECT count(*) AS n FROM information_schema.columns WHERE table_schema = %s"
        " AND table_name = 'slot_view' AND column_name IN ('tenant_id', 'answer')",
        (schema,),
    )
    row = cursor.fetchone()
    answers_missing = row is not None and row["n"] == 1  # a view from before ``answer``
    for statement in _DDL.split(";"):
        if statement.strip():
            cursor.execute(sql.SQL(statement).format(schema=sql.Identifier(schema)))
    if answers_missing:  # its rows are answered like every later one
        cursor.execute(
            sql.SQL("UPDATE {} SET answer = (SELECT row_to_json(a) FROM (SELECT {}) a)").format(
                sql.Identifier(schema, "slot_view"), sql.SQL(SLOT_ANSWER)
            )
        )


def replace_day(
    cursor: Cursor[DictRow],
    schema: str,
    key: DayKey,
    definition: ServiceDefinition,
    slots: Sequence[SlotView],
    revision: int,
    computed_at: datetime,
    starting_within: Interval | None = None,
) -> None:
    """Swap one day's rows (or those starting within ``starting_within``) for ``slots``
    and tell listeners (on commit)."""
    statements = _day_statements(schema)
    params: tuple[object, ...] = (key.service_id, key.location_id, key.day)
    if starting_within is None:
        cursor.execute(statements.delete_day, params, prepare=True)
    else:
        params += (starting_within.start, starting_within.end)
        cursor.execute(statements.delete_within, params, prepare=True)
    if slots:
        # one statement of column arrays, not a row each: executemany of ~85 rows was a
        # third of the projector's CPU at 10 bookings/s (py-spy); the free resources go
        # as each row's array literal, since PostgreSQL arrays of arrays must be square
        cursor.execute(
            statements.insert_slots,
            (
                key.tenant_id,
                key.service_id,
                key.location_id,
                key.day,
                int(definition.duration.total_seconds() // 60),
                int(definition.minimum_notice.total_seconds() // 60),
                [slot.start for slot in slots],
                [slot.end for slot in slots],
                [slot.status.value for slot in slots],
                [slot.free_resources for slot in slots],
                [slot.seats_left for slot in slots],
                [slot.alternatives for slot in slots],
                ["{" + ",".join(map(str, slot.free_resource_ids)) + "}" for slot in slots],
            ),
            prepare=True,
        )
    cursor.execute(
        statements.upsert_day,
        (key.service_id, key.location_id, key.day, revision, computed_at, key.tenant_id),
        prepare=True,
    )
    payload = {
        "tenant_id": key.tenant_id,
        "service_id": str(key.service_id),
        "location_id": str(key.location_id),
        "day": key.day.isoformat(),
        "revision": revision,
    }
    cursor.execute("SELECT pg_notify(%s, %s)", (SLOTS_CHANGED_CHANNEL, json.dumps(payload)))


@dataclass(frozen=True)
class _DayStatements:
    delete_day: bytes
    delete_within: bytes
    insert_slots: bytes
    upsert_day: bytes


@functools.cache
def _day_statements(schema: str) -> _DayStatements:
    """:func:`replace_day`'s statements, rendered once (psycopg renders composed SQL on
    every execute). The slots' columns go in binary: dumping ~85 timestamps, numbers and
    strings per array as text took ~0.95 ms of the projector's CPU per day, in binary
    ~0.22 ms (1,000 executes of the day's arrays on the embedded PostgreSQL)."""
    view, day = sql.Identifier(schema, "slot_view"), sql.Identifier(schema, "slot_day")
    delete = sql.SQL(
        "DELETE FROM {} WHERE service_id = %s AND location_id = %s AND local_day = %s"
    ).format(view)
    return _DayStatements(
        delete_day=delete.as_bytes(None),
        delete_within=(delete + sql.SQL(" AND slot_start >= %s AND slot_start < %s")).as_bytes(
            None
        ),
        insert_slots=sql.SQL(
            "INSERT INTO {view} (tenant_id, service_id, location_id, local_day, slot_start,"
            " slot_end, status, free_resources, seats_left, alternatives, resource_ids,"
            " duration_minutes, notice_minutes, answer)"
            " SELECT s.*, (SELECT row_to_json(a) FROM (SELECT {answer}) a) FROM ("
            "SELECT %s AS tenant_id, %s::uuid AS service_id, %s::uuid AS location_id,"
            " %s::date AS local_day, r.slot_start, r.slot_end, r.status,"
            " r.free AS free_resources, r.seats AS seats_left, r.alternatives,"
            " r.ids::uuid[] AS resource_ids, %s::int AS duration_minutes,"
            " %s::int AS notice_minutes FROM unnest("
            "%b::timestamptz[], %b::timestamptz[], %b::text[], %b::int[], %b::int[],"
            " %b::int[], %b::text[]) AS r(slot_start, slot_end, status, free, seats,"
            " alternatives, ids)) s"
        )
        .format(view=view, answer=sql.SQL(SLOT_ANSWER))
        .as_bytes(None),
        upsert_day=sql.SQL(
            "INSERT INTO {} (service_id, location_id, local_day, revision, computed_at,"
            " tenant_id) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT"
            " (service_id, location_id, local_day) DO UPDATE"
            " SET revision = excluded.revision, computed_at = excluded.computed_at,"
            " tenant_id = excluded.tenant_id"
        )
        .format(day)
        .as_bytes(None),
    )


@dataclass(frozen=True)
class DayState:
    """A recomputed day as it stands, with the revision it was computed at."""

    key: DayKey
    revision: int
    computed_at: datetime
    slots: list[DictRow]
    """slot_start and slot_end (as JSON text: :data:`JSON_INSTANT`), status,
    free_resources, seats_left."""


JSON_INSTANT = (
    "to_char({0} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS')"
    " || CASE WHEN mod(extract(microseconds FROM {0})::bigint, 1000000) = 0 THEN 'Z'"
    " ELSE to_char({0} AT TIME ZONE 'UTC', '.US\"Z\"') END"
)
"""A ``timestamptz`` column as the JSON text pydantic writes for a UTC instant
(``2026-12-07T07:00:00Z``, ``….250000Z``), whatever the session's time zone: the
published day's instants go out as read, neither parsed by psycopg nor formatted again
in Python (~2.8 µs an instant, 170 a day)."""


def unpublished_days(cursor: Cursor[DictRow], schema: str, limit: int) -> list[DayState]:
    """Up to ``limit`` days recomputed since they were last published, oldest first, each
    whole (a recompute may have touched part of the day)."""
    cursor.execute(
        sql.SQL(
            "SELECT tenant_id, service_id, location_id, local_day, revision, computed_at"
            " FROM {} WHERE published_revision IS DISTINCT FROM revision"
            " AND tenant_id IS NOT NULL ORDER BY revision LIMIT %s"
        ).format(sql.Identifier(schema, "slot_day")),
        (limit,),
    )
    days = {
        (row["service_id"], row["location_id"], row["local_day"]): DayState(
            DayKey(row["tenant_id"], row["service_id"], row["location_id"], row["local_day"]),
            int(row["revision"]),
            row["computed_at"],
            [],
        )
        for row in cursor.fetchall()
    }
    if not days:
        return []
    services, locations, local_days = (list(column) for column in zip(*days, strict=True))
    cursor.execute(
        sql.SQL(
            "SELECT v.service_id, v.location_id, v.local_day,"
            f" {JSON_INSTANT.format('v.slot_start')} AS slot_start,"
            f" {JSON_INSTANT.format('v.slot_end')} AS slot_end,"
            " v.status, v.free_resources, v.seats_left FROM {} v"
            " JOIN unnest(%s::uuid[], %s::uuid[], %s::date[]) AS d(service_id, location_id,"
            " local_day) USING (service_id, location_id, local_day)"
            " ORDER BY v.slot_start"
        ).format(sql.Identifier(schema, "slot_view")),
        (services, locations, local_days),
    )
    for row in cursor.fetchall():
        days[(row["service_id"], row["location_id"], row["local_day"])].slots.append(row)
    return list(days.values())


def mark_published(cursor: Cursor[DictRow], schema: str, days: Sequence[DayState]) -> None:
    """Note each day as published at its revision; a day recomputed since stays due.

    A day the projection is rewriting right now is skipped, not waited for: waiting
    while holding other days deadlocked with the projection's own upsert (it takes its
    days in another order; bench-booking, 2 of ~6,000 days). Skipped, it is sent again
    with its new revision."""
    table = sql.Identifier(schema, "slot_day")
    cursor.execute(
        sql.SQL(
            "WITH d AS (SELECT * FROM unnest(%s::uuid[], %s::uuid[], %s::date[], %s::bigint[])"
            " AS d(service_id, location_id, local_day, revision)),"
            " free AS (SELECT s.service_id, s.location_id, s.local_day, d.revision"
            " FROM {} s JOIN d USING (service_id, location_id, local_day)"
            " FOR UPDATE OF s SKIP LOCKED)"
            " UPDATE {} AS s SET published_revision = greatest(s.published_revision, f.revision)"
            " FROM free f WHERE s.service_id = f.service_id AND s.location_id = f.location_id"
            " AND s.local_day = f.local_day"
        ).format(table, table),
        (
            [d.key.service_id for d in days],
            [d.key.location_id for d in days],
            [d.key.day for d in days],
            [d.revision for d in days],
        ),
    )


def drop_service(cursor: Cursor[DictRow], schema: str, service_id: UUID) -> None:
    """A retired service offers nothing."""
    for table in ("slot_view", "slot_day"):
        cursor.execute(
            sql.SQL("DELETE FROM {} WHERE service_id = %s").format(sql.Identifier(schema, table)),
            (service_id,),
        )


def days_computed(
    cursor: Cursor[DictRow], schema: str, service_id: UUID, location_id: UUID
) -> set[date]:
    cursor.execute(
        sql.SQL("SELECT local_day FROM {} WHERE service_id = %s AND location_id = %s").format(
            sql.Identifier(schema, "slot_day")
        ),
        (service_id, location_id),
    )
    return {row["local_day"] for row in cursor.fetchall()}


def upsert_holds(
    cursor: Cursor[DictRow], schema: str, holds: Iterable[tuple[Hold, Interval]]
) -> None:
    """Write each hold's latest state with the time it occupies (buffers included)."""
    rows = [
        (
            hold.id,
            hold.tenant_id,
            hold.hold_key,
            hold.booking_request_id,
            hold.service_id,
            hold.location_id,
            hold.slot.start,
            hold.slot.end,
            occupied.start,
            occupied.end,
            list(hold.resource_ids),
            hold.seats,
            hold.status.value,
            hold.expires_at,
            hold.version,
        )
        for hold, occupied in holds
    ]
    if not rows:
        return
    cursor.executemany(
        sql.SQL(
            "INSERT INTO {} VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (hold_id) DO UPDATE SET slot_start = excluded.slot_start,"
            " slot_end = excluded.slot_end, occupied_start = excluded.occupied_start,"
            " occupied_end = excluded.occupied_end, resource_ids = excluded.resource_ids,"
            " status = excluded.status, expires_at = excluded.expires_at,"
            " version = excluded.version WHERE {}.version < excluded.version"
        ).format(sql.Identifier(schema, "hold_view"), sql.Identifier("hold_view")),
        rows,
    )


def clear(cursor: Cursor[DictRow], schema: str) -> None:
    """Empty the view, for a rebuild from the first event."""
    for table in ("slot_view", "slot_day", "hold_view"):
        cursor.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(schema, table)))


def overlapping_allocations(cursor: Cursor[DictRow], schema: str, now: datetime) -> int:
    """Pairs of live holds that occupy one resource at overlapping times (must be 0).

    Seats of one group session (same service and start) share their resources.
    """
    cursor.execute(
        sql.SQL(
            "WITH live AS (SELECT hold_id, service_id, slot_start,"
            " unnest(resource_ids) AS resource_id,"
            " tstzrange(occupied_start, occupied_end) AS span FROM {}"
            " WHERE status = 'confirmed' OR (status = 'held' AND expires_at > %s))"
            " SELECT count(*) AS n FROM live a JOIN live b"
            " ON a.resource_id = b.resource_id AND a.hold_id < b.hold_id"
            " AND a.span && b.span"
            " AND NOT (a.service_id = b.service_id AND a.slot_start = b.slot_start)"
        ).format(sql.Identifier(schema, "hold_view")),
        (now,),
    )
    row = cursor.fetchone()
    return int(row["n"]) if row else 0
