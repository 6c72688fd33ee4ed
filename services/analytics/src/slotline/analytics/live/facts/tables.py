"""The fact tables (in the service's own schema) and the one way rows are written.

Every write is an upsert that merges what one event tells into the row of the thing it
is about, and gives the same row whatever order the events arrive in: a moment keeps
its earliest value, a description its latest, an attribution its first.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from psycopg import Cursor, sql
from psycopg.rows import DictRow

from slotline.analytics.domain.facts import Merge

_DDL = """
CREATE TABLE IF NOT EXISTS {schema}.booking_request (
    tenant_id text NOT NULL,
    request_id text NOT NULL,
    channel text,
    requested_at timestamptz,
    booking_id text,
    PRIMARY KEY (tenant_id, request_id)
);
CREATE INDEX IF NOT EXISTS booking_request_by_time
    ON {schema}.booking_request (tenant_id, requested_at);
CREATE TABLE IF NOT EXISTS {schema}.booking (
    tenant_id text NOT NULL,
    booking_id text NOT NULL,
    request_id text,
    channel text,
    confirmed_at timestamptz,
    slot_start timestamptz,
    slot_end timestamptz,
    time_zone text,
    resource_ids text[],
    cancelled_at timestamptz,
    cancelled_late boolean,
    completed_at timestamptz,
    no_show_at timestamptz,
    PRIMARY KEY (tenant_id, booking_id)
);
CREATE INDEX IF NOT EXISTS booking_by_slot ON {schema}.booking (tenant_id, slot_start);
CREATE INDEX IF NOT EXISTS booking_by_confirmation ON {schema}.booking (tenant_id, confirmed_at);
CREATE INDEX IF NOT EXISTS booking_by_cancellation ON {schema}.booking (tenant_id, cancelled_at);
CREATE TABLE IF NOT EXISTS {schema}.call (
    tenant_id text NOT NULL,
    call_id text NOT NULL,
    received_at timestamptz,
    missed_at timestamptz,
    texted_back_at timestamptz,
    PRIMARY KEY (tenant_id, call_id)
);
CREATE INDEX IF NOT EXISTS call_by_time
    ON {schema}.call (tenant_id, (coalesce(received_at, missed_at)));
CREATE TABLE IF NOT EXISTS {schema}.callback_task (
    tenant_id text NOT NULL,
    task_id text NOT NULL,
    call_id text,
    created_at timestamptz,
    deadline timestamptz,
    first_attempt_at timestamptz,
    closed_at timestamptz,
    PRIMARY KEY (tenant_id, task_id)
);
CREATE INDEX IF NOT EXISTS callback_task_by_time ON {schema}.callback_task (tenant_id, created_at);
CREATE TABLE IF NOT EXISTS {schema}.waitlist_entry (
    tenant_id text NOT NULL,
    entry_id text NOT NULL,
    service_id text,
    joined_at timestamptz,
    offered_at timestamptz,
    claimed_at timestamptz,
    passed_at timestamptz,
    left_at timestamptz,
    PRIMARY KEY (tenant_id, entry_id)
);
CREATE TABLE IF NOT EXISTS {schema}.waitlist_offer (
    tenant_id text NOT NULL,
    booking_id text NOT NULL,
    entry_id text,
    service_id text,
    location_id text,
    slot_start timestamptz,
    slot_freed_at timestamptz,
    slot_freed_by text,
    freed_booking_id text,
    offered_at timestamptz,
    claimed_at timestamptz,
    passed_at timestamptz,
    PRIMARY KEY (tenant_id, booking_id)
);
CREATE INDEX IF NOT EXISTS waitlist_offer_by_freeing
    ON {schema}.waitlist_offer (tenant_id, slot_freed_at);
"""

KEYS: Mapping[str, tuple[str, ...]] = {
    "booking_request": ("tenant_id", "request_id"),
    "booking": ("tenant_id", "booking_id"),
    "call": ("tenant_id", "call_id"),
    "callback_task": ("tenant_id", "task_id"),
    "waitlist_entry": ("tenant_id", "entry_id"),
    "waitlist_offer": ("tenant_id", "booking_id"),
}


def create_tables(cursor: Cursor[DictRow], schema: str) -> None:
    for statement in _DDL.split(";"):
        if statement.strip():
            cursor.execute(sql.SQL(statement).format(schema=sql.Identifier(schema)))


def merge_into(
    cursor: Cursor[DictRow],
    schema: str,
    table: str,
    key: Mapping[str, Any],
    values: Mapping[str, tuple[Any, Merge]],
) -> None:
    """Insert the row ``key`` with ``values``, or merge them into the existing row."""
    keys = KEYS[table]
    assert tuple(key) == keys, f"{table} is keyed by {keys}"
    how = tuple((column, merge) for column, (_, merge) in values.items())
    statement = _merge_statement(schema, table, how)
    cursor.execute(statement, [*key.values(), *(value for value, _ in values.values())])


@functools.cache
def _merge_statement(schema: str, table: str, how: tuple[tuple[str, Merge], ...]) -> bytes:
    """Rendered once for each shape of merge: composing it for every fact row was ~15 %
    of the service's CPU under ``make loadtest`` (py-spy)."""
    keys = KEYS[table]
    columns = [*keys, *(column for column, _ in how)]
    assignments = [
        sql.SQL("{} = {}").format(sql.Identifier(column), _merged(column, merge))
        for column, merge in how
    ]
    return (
        sql.SQL("INSERT INTO {} AS t ({}) VALUES ({}) ON CONFLICT ({}) DO {}")
        .format(
            sql.Identifier(schema, table),
            sql.SQL(", ").join(map(sql.Identifier, columns)),
            sql.SQL(", ").join(sql.Placeholder() * len(columns)),
            sql.SQL(", ").join(map(sql.Identifier, keys)),
            sql.SQL("UPDATE SET {}").format(sql.SQL(", ").join(assignments))
            if assignments
            else sql.SQL("NOTHING"),
        )
        .as_bytes(None)
    )


def _merged(column: str, how: Merge) -> sql.Composable:
    old = sql.SQL("t.{}").format(sql.Identifier(column))
    new = sql.SQL("EXCLUDED.{}").format(sql.Identifier(column))
    if how is Merge.EARLIEST:
        return sql.SQL("LEAST({}, {})").format(old, new)  # LEAST ignores NULLs
    if how is Merge.LATEST:
        return sql.SQL("COALESCE({}, {})").format(new, old)
    return sql.SQL("COALESCE({}, {})").format(old, new)
