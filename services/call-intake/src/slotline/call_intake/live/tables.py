"""The read model's tables: the callback queue, the call log and customer timelines.

Written only by the intake projection (in the transaction that records its position);
read by the front-desk API, the SSE feed, the SLA job and the speed-to-lead figures.
A caller's number and a timeline line's detail (a transcript, a message) are sealed
(:mod:`slotline.events.privacy.read_models`); a number is found by its keyed hash.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from psycopg import Cursor, sql
from psycopg.rows import DictRow

from slotline.events.privacy.personal import ERASED
from slotline.events.privacy.read_models import ReadModelSeal

QUEUE_CHANGED_CHANNEL = "call_intake_queue_changed"
"""NOTIFY channel: ``{"tenant_id", "task_id"}`` for each task changed, sent on commit."""

_DDL = """
CREATE TABLE IF NOT EXISTS {schema}.callback_queue (
    task_id uuid PRIMARY KEY,
    tenant_id text NOT NULL,
    customer_phone text NOT NULL,
    source text NOT NULL,
    call_id uuid,
    lead_id text,
    assigned_to text,
    claimed_by text,
    created_at timestamptz NOT NULL,
    deadline timestamptz NOT NULL,
    status text NOT NULL,
    outcome text,
    booking_id text,
    attempts int NOT NULL DEFAULT 0,
    last_attempt text,
    next_attempt_at timestamptz,
    first_response_at timestamptz,
    warned boolean NOT NULL DEFAULT false,
    breached boolean NOT NULL DEFAULT false,
    closed_at timestamptz,
    version int NOT NULL
);
CREATE INDEX IF NOT EXISTS callback_queue_by_deadline
    ON {schema}.callback_queue (tenant_id, deadline) WHERE status = 'open';
CREATE INDEX IF NOT EXISTS callback_queue_sla ON {schema}.callback_queue (deadline)
    WHERE status = 'open' AND NOT breached;
CREATE TABLE IF NOT EXISTS {schema}.call_log (
    call_id uuid PRIMARY KEY,
    tenant_id text NOT NULL,
    call_sid text NOT NULL,
    from_phone text NOT NULL,
    to_phone text NOT NULL,
    received_at timestamptz NOT NULL,
    outcome text,
    miss_reason text,
    after_hours boolean NOT NULL DEFAULT false,
    answered_by text,
    text_back text,
    text_back_due timestamptz,
    booking_id text
);
CREATE INDEX IF NOT EXISTS call_log_by_tenant ON {schema}.call_log (tenant_id, received_at);
CREATE INDEX IF NOT EXISTS call_log_held_texts ON {schema}.call_log (text_back_due)
    WHERE text_back = 'held';
CREATE TABLE IF NOT EXISTS {schema}.timeline (
    position bigint NOT NULL,
    tenant_id text NOT NULL,
    phone text NOT NULL,
    at timestamptz NOT NULL,
    kind text NOT NULL,
    ref text NOT NULL,
    detail jsonb NOT NULL,
    PRIMARY KEY (position, kind)
);
CREATE TABLE IF NOT EXISTS {schema}.party (
    aggregate_id uuid PRIMARY KEY,
    tenant_id text NOT NULL,
    phone text NOT NULL
);
DROP INDEX IF EXISTS {schema}.timeline_by_phone;
ALTER TABLE {schema}.callback_queue ADD COLUMN IF NOT EXISTS customer_phone_index text;
ALTER TABLE {schema}.call_log ADD COLUMN IF NOT EXISTS from_phone_index text;
ALTER TABLE {schema}.timeline ADD COLUMN IF NOT EXISTS phone_index text;
ALTER TABLE {schema}.party ADD COLUMN IF NOT EXISTS phone_index text;
ALTER TABLE {schema}.callback_queue ADD COLUMN IF NOT EXISTS sealed boolean NOT NULL DEFAULT false;
ALTER TABLE {schema}.call_log ADD COLUMN IF NOT EXISTS sealed boolean NOT NULL DEFAULT false;
ALTER TABLE {schema}.timeline ADD COLUMN IF NOT EXISTS sealed boolean NOT NULL DEFAULT false;
ALTER TABLE {schema}.party ADD COLUMN IF NOT EXISTS sealed boolean NOT NULL DEFAULT false;
CREATE INDEX IF NOT EXISTS timeline_by_phone_index
    ON {schema}.timeline (tenant_id, phone_index, at);
CREATE INDEX IF NOT EXISTS callback_queue_by_phone_index
    ON {schema}.callback_queue (tenant_id, customer_phone_index);
CREATE INDEX IF NOT EXISTS call_log_by_phone_index
    ON {schema}.call_log (tenant_id, from_phone_index);
CREATE INDEX IF NOT EXISTS party_by_phone_index ON {schema}.party (tenant_id, phone_index);
"""

QUEUE_COLUMNS = (
    "task_id, tenant_id, customer_phone, source, call_id, lead_id, assigned_to, claimed_by,"
    " created_at, deadline, status, outcome, booking_id, attempts, last_attempt,"
    " next_attempt_at, first_response_at, warned, breached, closed_at, version"
)


def create_tables(cursor: Cursor[DictRow], schema: str) -> None:
    cursor.execute(sql.SQL(_DDL.format(schema=sql.Identifier(schema).as_string(cursor))))


def _t(schema: str, table: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))


def opened_task(seal: ReadModelSeal, row: DictRow) -> dict[str, Any]:
    """A queue row as the front desk reads it: the number opened."""
    return {**row, "customer_phone": seal.open(row["tenant_id"], row["customer_phone"])}


def open_queue(cursor: Cursor[DictRow], schema: str, tenant_id: str) -> list[DictRow]:
    """Open tasks, the most urgent (earliest deadline) first (numbers sealed: see
    :func:`opened_task`)."""
    cursor.execute(
        sql.SQL(
            "SELECT " + QUEUE_COLUMNS + " FROM {} WHERE tenant_id = %s AND status = 'open'"
            " ORDER BY deadline, created_at"
        ).format(_t(schema, "callback_queue")),
        (tenant_id,),
    )
    return cursor.fetchall()


def task_row(cursor: Cursor[DictRow], schema: str, task_id: Any) -> DictRow | None:
    cursor.execute(
        sql.SQL("SELECT " + QUEUE_COLUMNS + " FROM {} WHERE task_id = %s").format(
            _t(schema, "callback_queue")
        ),
        (task_id,),
    )
    return cursor.fetchone()


def tasks_due_escalation(
    cursor: Cursor[DictRow], schema: str, warn_at_or_before: datetime, now: datetime, limit: int
) -> list[Any]:
    """Open tasks whose warning (deadline - warn_before) or breach has come."""
    cursor.execute(
        sql.SQL(
            "SELECT task_id FROM {} WHERE status = 'open' AND NOT breached"
            " AND ((NOT warned AND deadline <= %s) OR deadline <= %s)"
            " ORDER BY deadline LIMIT %s"
        ).format(_t(schema, "callback_queue")),
        (warn_at_or_before, now, limit),
    )
    return [row["task_id"] for row in cursor.fetchall()]


def held_text_backs_due(
    cursor: Cursor[DictRow], schema: str, now: datetime, limit: int
) -> list[Any]:
    cursor.execute(
        sql.SQL(
            "SELECT call_id FROM {} WHERE text_back = 'held' AND text_back_due <= %s"
            " ORDER BY text_back_due LIMIT %s"
        ).format(_t(schema, "call_log")),
        (now, limit),
    )
    return [row["call_id"] for row in cursor.fetchall()]


def timeline(
    cursor: Cursor[DictRow], schema: str, tenant_id: str, phone: str, seal: ReadModelSeal
) -> list[dict[str, Any]]:
    cursor.execute(
        sql.SQL(
            "SELECT at, kind, ref, detail FROM {} WHERE tenant_id = %s AND phone_index = %s"
            " ORDER BY at, position"
        ).format(_t(schema, "timeline")),
        (tenant_id, seal.index(tenant_id, "phone", phone)),
    )
    return [
        {**row, "detail": seal.open_json(tenant_id, row["detail"])} for row in cursor.fetchall()
    ]


def speed_to_lead(
    cursor: Cursor[DictRow], schema: str, tenant_id: str, since: datetime, until: datetime
) -> dict[str, Any]:
    """Missed-call rate, time to first response, callbacks within SLA, conversion."""
    cursor.execute(
        sql.SQL(
            "SELECT count(*) AS calls,"
            " count(*) FILTER (WHERE outcome = 'missed') AS missed,"
            " count(*) FILTER (WHERE booking_id IS NOT NULL) AS booked,"
            " count(*) FILTER (WHERE outcome = 'missed' AND booking_id IS NOT NULL) AS recovered"
            " FROM {} WHERE tenant_id = %s AND received_at >= %s AND received_at < %s"
        ).format(_t(schema, "call_log")),
        (tenant_id, since, until),
    )
    calls = cursor.fetchone() or {}
    cursor.execute(
        sql.SQL(
            "SELECT count(*) AS tasks,"
            " percentile_cont(0.5) WITHIN GROUP (ORDER BY"
            "   extract(epoch FROM first_response_at - created_at)) AS median,"
            " percentile_cont(0.9) WITHIN GROUP (ORDER BY"
            "   extract(epoch FROM first_response_at - created_at)) AS p90,"
            " count(*) FILTER (WHERE first_response_at <= deadline"
            "   OR (outcome = 'booked' AND closed_at <= deadline)) AS within_sla,"
            " count(*) FILTER (WHERE first_response_at IS NOT NULL OR closed_at IS NOT NULL"
            "   OR breached) AS decided"
            " FROM {} WHERE tenant_id = %s AND created_at >= %s AND created_at < %s"
        ).format(_t(schema, "callback_queue")),
        (tenant_id, since, until),
    )
    tasks = cursor.fetchone() or {}
    return {"calls": calls, "tasks": tasks}


def erase_phone(
    cursor: Cursor[DictRow], schema: str, tenant_id: str, phone: str, seal: ReadModelSeal
) -> list[Any]:
    """Erasure in the read models: the number's timeline and party rows go, its calls
    and callback tasks keep times and outcomes with a placeholder for the number. The
    ids of those calls and tasks (their cached copies are dropped)."""
    index = seal.index(tenant_id, "phone", phone)
    ids: list[Any] = []
    for table, column, key in (
        ("call_log", "from_phone", "call_id"),
        ("callback_queue", "customer_phone", "task_id"),
    ):
        cursor.execute(
            sql.SQL(
                "UPDATE {} SET {} = %s, {} = NULL WHERE tenant_id = %s AND {} = %s RETURNING {}"
            ).format(
                _t(schema, table),
                sql.Identifier(column),
                sql.Identifier(f"{column}_index"),
                sql.Identifier(f"{column}_index"),
                sql.Identifier(key),
            ),
            (ERASED, tenant_id, index),
        )
        ids.extend(row[key] for row in cursor.fetchall())
    cursor.execute(
        sql.SQL(
            "DELETE FROM {} WHERE tenant_id = %s AND phone_index = %s RETURNING aggregate_id"
        ).format(_t(schema, "party")),
        (tenant_id, index),
    )
    ids.extend(row["aggregate_id"] for row in cursor.fetchall())
    cursor.execute(
        sql.SQL("DELETE FROM {} WHERE tenant_id = %s AND phone_index = %s").format(
            _t(schema, "timeline")
        ),
        (tenant_id, index),
    )
    return ids


_NUMBERS = (
    ("callback_queue", "customer_phone"),
    ("call_log", "from_phone"),
    ("party", "phone"),
    ("timeline", "phone"),
)
"""Each table's column with a caller's number (the timeline's detail is sealed too)."""


def seal_legacy_rows(
    cursor: Cursor[DictRow], schema: str, seal: ReadModelSeal, batch: int = 500
) -> int:
    """Seal the rows written before the read models were sealed (on start, a batch at a
    time; replicas starting together skip each other's rows). How many were sealed."""
    done = 0
    for table, column in _NUMBERS:
        detail = ", detail" if table == "timeline" else ""
        while True:
            cursor.execute(
                sql.SQL(
                    "SELECT ctid, tenant_id, {}" + detail + " FROM {} WHERE NOT sealed"
                    " LIMIT %s FOR UPDATE SKIP LOCKED"
                ).format(sql.Identifier(column), _t(schema, table)),
                (batch,),
            )
            rows = cursor.fetchall()
            if not rows:
                break
            cursor.executemany(
                sql.SQL(
                    "UPDATE {} SET {} = %(phone)s, {} = %(index)s, sealed = true"
                    + (", detail = %(detail)s" if detail else "")
                    + " WHERE ctid = %(ctid)s::tid"
                ).format(
                    _t(schema, table), sql.Identifier(column), sql.Identifier(_index_of(column))
                ),
                [
                    {
                        "ctid": row["ctid"],
                        "phone": seal.seal(row["tenant_id"], row[column]),
                        "index": seal.index(row["tenant_id"], "phone", row[column]),
                        "detail": json.dumps(seal.seal_json(row["tenant_id"], row.get("detail"))),
                    }
                    for row in rows
                ],
            )
            done += len(rows)
    return done


def _index_of(column: str) -> str:
    return "phone_index" if column == "phone" else f"{column}_index"
