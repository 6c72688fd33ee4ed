"""The booking service's read tables: ``booking_view`` (one row per booking, for the
front desk's lists and the saga timeout job) and ``timeline`` (everything that
happened with one customer: bookings, calls, messages, payments).

Plain SQL on the service's own schema; rows are written inside the transaction that
records the writer's position, so each event lands once.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Cursor, sql
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from slotline.events.privacy.personal import ERASED

BOARD_CHANGED_CHANNEL = "booking_board_changed"
"""NOTIFY channel: ``{"tenant_id", "booking_id", "slot_start", "status"}`` per changed
row of ``booking_view``, sent when the row commits (the front desk's live day sheet)."""

_DDL = """
CREATE TABLE IF NOT EXISTS {schema}.booking_view (
    booking_id uuid PRIMARY KEY,
    tenant_id text NOT NULL,
    reference text NOT NULL,
    request_id text NOT NULL,
    customer_id uuid NOT NULL,
    customer_name text NOT NULL,
    phone text,
    email text,
    channel text NOT NULL,
    status text NOT NULL,
    status_reason text,
    service_id text NOT NULL,
    service_name text NOT NULL,
    location_id text NOT NULL,
    time_zone text NOT NULL,
    slot_start timestamptz NOT NULL,
    slot_end timestamptz NOT NULL,
    resource_ids text[] NOT NULL,
    paid_minor bigint,
    currency text,
    changes int NOT NULL,
    requested_at timestamptz NOT NULL,
    version int NOT NULL
);
ALTER TABLE {schema}.booking_view ADD COLUMN IF NOT EXISTS arrived_at timestamptz;
CREATE INDEX IF NOT EXISTS booking_view_by_day ON {schema}.booking_view (tenant_id, slot_start);
CREATE INDEX IF NOT EXISTS booking_view_pending ON {schema}.booking_view (requested_at)
    WHERE status IN ('requested', 'awaiting_payment');
CREATE INDEX IF NOT EXISTS booking_view_offered ON {schema}.booking_view (requested_at)
    WHERE status = 'offered';
CREATE INDEX IF NOT EXISTS booking_view_by_customer
    ON {schema}.booking_view (tenant_id, customer_id);
CREATE TABLE IF NOT EXISTS {schema}.timeline (
    entry_id text PRIMARY KEY,
    tenant_id text NOT NULL,
    occurred_at timestamptz NOT NULL,
    kind text NOT NULL,
    summary text NOT NULL,
    phone text,
    email text,
    call_id text,
    task_id text,
    booking_id text,
    notification_id text
);
ALTER TABLE {schema}.timeline ADD COLUMN IF NOT EXISTS caller_id uuid;
ALTER TABLE {schema}.timeline ADD COLUMN IF NOT EXISTS name text;
ALTER TABLE {schema}.timeline ADD COLUMN IF NOT EXISTS facts jsonb;
CREATE INDEX IF NOT EXISTS timeline_by_caller ON {schema}.timeline (tenant_id, caller_id);
CREATE INDEX IF NOT EXISTS timeline_by_phone ON {schema}.timeline (tenant_id, phone);
CREATE INDEX IF NOT EXISTS timeline_by_email ON {schema}.timeline (tenant_id, email);
CREATE INDEX IF NOT EXISTS timeline_by_call ON {schema}.timeline (tenant_id, call_id);
CREATE INDEX IF NOT EXISTS timeline_by_task ON {schema}.timeline (tenant_id, task_id);
CREATE INDEX IF NOT EXISTS timeline_by_booking ON {schema}.timeline (tenant_id, booking_id);
"""


@dataclass(frozen=True)
class Entry:
    """One line of a customer's timeline; the ids tie lines without a phone (a
    voicemail, a payment) to the customer through an earlier line."""

    entry_id: str
    tenant_id: str
    occurred_at: datetime
    kind: str
    summary: str
    phone: str | None = None
    email: str | None = None
    call_id: str | None = None
    task_id: str | None = None
    booking_id: str | None = None
    notification_id: str | None = None
    caller_id: UUID | None = None
    """The customer id the caller's phone would have (set on lines of other services
    with a phone): how the front desk finds someone who only called."""
    name: str | None = None
    """The name a caller gave (a lead's form), if any."""
    facts: dict[str, Any] = field(default_factory=dict)
    """The line's variable parts by name (a service, a time, an amount as
    ``{"amount_minor", "currency"}``...): what a page needs to say the line in its own
    language; ``summary`` is the same in English for API clients."""


def create_tables(cursor: Cursor[DictRow], schema: str) -> None:
    cursor.execute(sql.SQL(_DDL).format(schema=sql.Identifier(schema)))


def upsert_bookings(cursor: Cursor[DictRow], schema: str, rows: Sequence[dict[str, Any]]) -> None:
    """Write the rows (newer versions only) in one pipelined round trip, and tell
    listeners (on commit) which bookings changed, in one statement."""
    if not rows:
        return
    cursor.executemany(_upsert_statement(schema, tuple(rows[0])), rows)
    payloads = [
        json.dumps(
            {
                "tenant_id": row["tenant_id"],
                "booking_id": str(row["booking_id"]),
                "slot_start": row["slot_start"].isoformat(),
                "status": row["status"],
            }
        )
        for row in rows
    ]
    cursor.execute(
        "SELECT pg_notify(%s, payload) FROM unnest(%s::text[]) AS payload",
        (BOARD_CHANGED_CHANNEL, payloads),
    )


@functools.cache
def _upsert_statement(schema: str, columns: tuple[str, ...]) -> sql.Composed:
    return sql.SQL(
        "INSERT INTO {}.booking_view ({}) VALUES ({}) ON CONFLICT (booking_id) DO UPDATE"
        " SET {} WHERE booking_view.version < EXCLUDED.version"
    ).format(
        sql.Identifier(schema),
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder(c) for c in columns),
        sql.SQL(", ").join(
            sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(c), sql.Identifier(c))
            for c in columns
            if c != "booking_id"
        ),
    )


def add_entries(cursor: Cursor[DictRow], schema: str, entries: Sequence[Entry]) -> None:
    if not entries:
        return
    cursor.executemany(
        sql.SQL(
            "INSERT INTO {}.timeline (entry_id, tenant_id, occurred_at, kind, summary, phone,"
            " email, call_id, task_id, booking_id, notification_id, caller_id, name, facts)"
            " VALUES (%(entry_id)s, %(tenant_id)s, %(occurred_at)s,"
            " %(kind)s, %(summary)s, %(phone)s, %(email)s, %(call_id)s, %(task_id)s,"
            " %(booking_id)s, %(notification_id)s, %(caller_id)s, %(name)s, %(facts)s)"
            " ON CONFLICT (entry_id) DO NOTHING"
        ).format(sql.Identifier(schema)),
        [{**e.__dict__, "facts": Jsonb(e.facts)} for e in entries],
    )


def overdue_sagas(
    cursor: Cursor[DictRow],
    schema: str,
    *,
    unanswered_before: datetime,
    unpaid_before: datetime,
    unclaimed_before: datetime | None = None,
    limit: int,
) -> list[UUID]:
    """Sagas still waiting for availability, or for payments, since before those times
    (and waitlist offers made before ``unclaimed_before``, still unclaimed)."""
    cursor.execute(
        sql.SQL(
            "SELECT booking_id FROM {}.booking_view WHERE (status = 'requested' AND"
            " requested_at < %s) OR (status = 'awaiting_payment' AND requested_at < %s)"
            " OR (status = 'offered' AND requested_at < %s)"
            " ORDER BY requested_at LIMIT %s"
        ).format(sql.Identifier(schema)),
        (unanswered_before, unpaid_before, unclaimed_before or unanswered_before, limit),
    )
    return [row["booking_id"] for row in cursor.fetchall()]


@dataclass(frozen=True)
class DaySheetFilter:
    """Which bookings the day sheet lists: those overlapping ``start``–``end``, in
    ``status``, of ``customer_id`` (None: any), the first ``limit`` by start time."""

    start: datetime | None = None
    end: datetime | None = None
    status: str | None = None
    customer_id: UUID | None = None
    limit: int = 200


def bookings(
    cursor: Cursor[DictRow], schema: str, tenant_id: str, wanted: DaySheetFilter
) -> list[dict[str, Any]]:
    conditions = [sql.SQL("tenant_id = %(tenant)s")]
    if wanted.start is not None:
        conditions.append(sql.SQL("slot_end > %(start)s"))
    if wanted.end is not None:
        conditions.append(sql.SQL("slot_start < %(end)s"))
    if wanted.status is not None:
        conditions.append(sql.SQL("status = %(status)s"))
    if wanted.customer_id is not None:
        conditions.append(sql.SQL("customer_id = %(customer)s"))
    cursor.execute(
        sql.SQL(
            "SELECT * FROM {}.booking_view WHERE {} ORDER BY slot_start LIMIT %(limit)s"
        ).format(sql.Identifier(schema), sql.SQL(" AND ").join(conditions)),
        {
            "tenant": tenant_id,
            "start": wanted.start,
            "end": wanted.end,
            "status": wanted.status,
            "customer": wanted.customer_id,
            "limit": wanted.limit,
        },
    )
    return list(cursor.fetchall())


def timeline(
    cursor: Cursor[DictRow],
    schema: str,
    tenant_id: str,
    phone: str | None,
    email: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Every line about a customer: those with their phone or e-mail, and those tied
    to one of those lines by a call, task, booking or message id (read-time join, so
    the order the lines arrived in does not matter)."""
    cursor.execute(
        sql.SQL(
            "WITH mine AS (SELECT * FROM {t} WHERE tenant_id = %(tenant)s"
            " AND (phone = %(phone)s OR email = %(email)s))"
            " SELECT occurred_at, kind, summary, coalesce(facts, '{{}}') AS facts, call_id,"
            " task_id, booking_id FROM {t}"
            " WHERE tenant_id = %(tenant)s AND (phone = %(phone)s OR email = %(email)s"
            " OR call_id IN (SELECT call_id FROM mine WHERE call_id IS NOT NULL)"
            " OR task_id IN (SELECT task_id FROM mine WHERE task_id IS NOT NULL)"
            " OR booking_id IN (SELECT booking_id FROM mine WHERE booking_id IS NOT NULL)"
            " OR notification_id IN"
            " (SELECT notification_id FROM mine WHERE notification_id IS NOT NULL))"
            " ORDER BY occurred_at DESC LIMIT %(limit)s"
        ).format(t=sql.SQL("{}.timeline").format(sql.Identifier(schema))),
        {"tenant": tenant_id, "phone": phone, "email": email, "limit": limit},
    )
    return list(cursor.fetchall())


def erase_customer(
    cursor: Cursor[DictRow],
    schema: str,
    tenant_id: str,
    customer_id: UUID,
    phone: str | None,
    email: str | None,
) -> list[UUID]:
    """Erasure in the read models: the customer's timeline lines (theirs and those tied
    to them, as :func:`timeline` reads them) are deleted, and their bookings' rows keep
    times, services and payments with a placeholder for the person. Their bookings' ids."""
    tables = {
        "t": sql.SQL("{}.timeline").format(sql.Identifier(schema)),
        "b": sql.SQL("{}.booking_view").format(sql.Identifier(schema)),
    }
    cursor.execute(
        sql.SQL(
            "UPDATE {b} SET customer_name = %(erased)s, phone = NULL, email = NULL"
            " WHERE tenant_id = %(tenant)s AND customer_id = %(customer)s RETURNING booking_id"
        ).format(**tables),
        {"erased": ERASED, "tenant": tenant_id, "customer": customer_id},
    )
    bookings = [row["booking_id"] for row in cursor.fetchall()]
    cursor.execute(
        sql.SQL(
            "WITH mine AS (SELECT * FROM {t} WHERE tenant_id = %(tenant)s"
            " AND (phone = %(phone)s OR email = %(email)s OR caller_id = %(customer)s))"
            " DELETE FROM {t} WHERE tenant_id = %(tenant)s AND (entry_id IN"
            " (SELECT entry_id FROM mine)"
            " OR call_id IN (SELECT call_id FROM mine WHERE call_id IS NOT NULL)"
            " OR task_id IN (SELECT task_id FROM mine WHERE task_id IS NOT NULL)"
            " OR booking_id = ANY(%(bookings)s)"
            " OR notification_id IN"
            " (SELECT notification_id FROM mine WHERE notification_id IS NOT NULL))"
        ).format(**tables),
        {
            "tenant": tenant_id,
            "phone": phone,
            "email": email,
            "customer": customer_id,
            "bookings": [str(b) for b in bookings],
        },
    )
    return bookings


def customer_bookings(
    cursor: Cursor[DictRow], schema: str, tenant_id: str, customer_id: UUID
) -> list[UUID]:
    cursor.execute(
        sql.SQL(
            "SELECT booking_id FROM {}.booking_view WHERE tenant_id = %s AND customer_id = %s"
        ).format(sql.Identifier(schema)),
        (tenant_id, customer_id),
    )
    return [row["booking_id"] for row in cursor.fetchall()]


def tenants(cursor: Cursor[DictRow], schema: str) -> list[str]:
    """The tenants with bookings (the retention rule's sweep goes through them)."""
    cursor.execute(
        sql.SQL("SELECT DISTINCT tenant_id FROM {}.booking_view").format(sql.Identifier(schema))
    )
    return [row["tenant_id"] for row in cursor.fetchall()]


def inactive_customers(
    cursor: Cursor[DictRow], schema: str, tenant_id: str, before: datetime, limit: int
) -> list[UUID]:
    """Customers not yet erased whose every booking ended (or was asked for) before
    ``before``: the retention rule's candidates, the longest inactive first."""
    cursor.execute(
        sql.SQL(
            "SELECT customer_id FROM {}.booking_view WHERE tenant_id = %s"
            " AND customer_name <> %s GROUP BY customer_id"
            " HAVING max(greatest(slot_end, requested_at)) < %s"
            " ORDER BY max(greatest(slot_end, requested_at)) LIMIT %s"
        ).format(sql.Identifier(schema)),
        (tenant_id, ERASED, before, limit),
    )
    return [row["customer_id"] for row in cursor.fetchall()]


def find_customers(
    cursor: Cursor[DictRow], schema: str, tenant_id: str, text: str, limit: int
) -> list[dict[str, Any]]:
    """Customers whose name contains ``text`` or whose phone contains its digits, with
    their latest booking's start — the front desk's search box."""
    digits = "".join(c for c in text if c.isdigit())
    cursor.execute(
        sql.SQL(
            "SELECT DISTINCT ON (customer_id) customer_id, customer_name AS name, phone, email,"
            " slot_start AS latest_visit FROM {} WHERE tenant_id = %(tenant)s AND"
            " (customer_name ILIKE %(name)s OR (%(digits)s <> '' AND phone LIKE %(phone)s)"
            " OR email ILIKE %(name)s)"
            " ORDER BY customer_id, slot_start DESC"
        ).format(sql.Identifier(schema, "booking_view")),
        {
            "tenant": tenant_id,
            "name": "%" + text.replace("%", "").replace("_", "") + "%",
            "digits": digits,
            "phone": f"%{digits}%",
        },
    )
    found = list(cursor.fetchall())
    if len(found) < limit:
        found += find_callers(cursor, schema, tenant_id, text, limit - len(found))
    found.sort(key=lambda row: (row["name"] or "").lower())
    return found[:limit]


def find_callers(
    cursor: Cursor[DictRow], schema: str, tenant_id: str, text: str, limit: int
) -> list[dict[str, Any]]:
    """People who called, messaged or left a lead but never booked, by the digits of
    their phone or the name a lead gave: ``customer_id`` is the id their record will
    have once they book (``caller``: true; ``last_contact`` their latest line)."""
    digits = "".join(c for c in text if c.isdigit())
    cursor.execute(
        sql.SQL(
            "SELECT caller_id AS customer_id, max(name) AS name, phone, NULL AS email,"
            " NULL::timestamptz AS latest_visit, max(occurred_at) AS last_contact,"
            " true AS caller FROM {t} WHERE tenant_id = %(tenant)s AND caller_id IS NOT NULL"
            " AND caller_id NOT IN (SELECT customer_id FROM {b} WHERE tenant_id = %(tenant)s)"
            " GROUP BY caller_id, phone HAVING (%(digits)s <> '' AND phone LIKE %(phone)s)"
            " OR max(name) ILIKE %(name)s ORDER BY max(occurred_at) DESC LIMIT %(limit)s"
        ).format(t=sql.Identifier(schema, "timeline"), b=sql.Identifier(schema, "booking_view")),
        {
            "tenant": tenant_id,
            "name": "%" + text.replace("%", "").replace("_", "") + "%",
            "digits": digits,
            "phone": f"%{digits}%",
            "limit": limit,
        },
    )
    return list(cursor.fetchall())


def caller(
    cursor: Cursor[DictRow], schema: str, tenant_id: str, caller_id: UUID
) -> dict[str, Any] | None:
    """Who a caller is (phone, the name a lead gave), from their lines; None if no line."""
    cursor.execute(
        sql.SQL(
            "SELECT phone, max(name) AS name FROM {} WHERE tenant_id = %s AND caller_id = %s"
            " GROUP BY phone LIMIT 1"
        ).format(sql.Identifier(schema, "timeline")),
        (tenant_id, caller_id),
    )
    return cursor.fetchone()
