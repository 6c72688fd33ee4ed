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

from slotline.events.contract.timeline import LineKind
from slotline.events.privacy.personal import ERASED
from slotline.events.privacy.read_models import ReadModelSeal, digits_of

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
DROP INDEX IF EXISTS {schema}.timeline_by_phone;
DROP INDEX IF EXISTS {schema}.timeline_by_email;
CREATE INDEX IF NOT EXISTS timeline_by_call ON {schema}.timeline (tenant_id, call_id);
CREATE INDEX IF NOT EXISTS timeline_by_task ON {schema}.timeline (tenant_id, task_id);
CREATE INDEX IF NOT EXISTS timeline_by_booking ON {schema}.timeline (tenant_id, booking_id);
ALTER TABLE {schema}.booking_view ADD COLUMN IF NOT EXISTS phone_index text;
ALTER TABLE {schema}.booking_view ADD COLUMN IF NOT EXISTS email_index text;
ALTER TABLE {schema}.booking_view ADD COLUMN IF NOT EXISTS search_grams text[];
ALTER TABLE {schema}.booking_view ADD COLUMN IF NOT EXISTS sealed boolean NOT NULL DEFAULT false;
CREATE INDEX IF NOT EXISTS booking_view_search ON {schema}.booking_view USING gin (search_grams);
CREATE INDEX IF NOT EXISTS booking_view_unsealed ON {schema}.booking_view (booking_id)
    WHERE NOT sealed;
ALTER TABLE {schema}.timeline ADD COLUMN IF NOT EXISTS phone_index text;
ALTER TABLE {schema}.timeline ADD COLUMN IF NOT EXISTS email_index text;
ALTER TABLE {schema}.timeline ADD COLUMN IF NOT EXISTS search_grams text[];
ALTER TABLE {schema}.timeline ADD COLUMN IF NOT EXISTS sealed boolean NOT NULL DEFAULT false;
CREATE INDEX IF NOT EXISTS timeline_by_phone_index ON {schema}.timeline (tenant_id, phone_index);
CREATE INDEX IF NOT EXISTS timeline_by_email_index ON {schema}.timeline (tenant_id, email_index);
CREATE INDEX IF NOT EXISTS timeline_search ON {schema}.timeline USING gin (search_grams);
CREATE INDEX IF NOT EXISTS timeline_unsealed ON {schema}.timeline (entry_id) WHERE NOT sealed;
"""


@dataclass(frozen=True)
class Entry:
    """One line of a customer's timeline; the ids tie lines without a phone (a
    voicemail, a payment) to the customer through an earlier line."""

    entry_id: str
    tenant_id: str
    occurred_at: datetime
    kind: LineKind
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


def _sealed_view(seal: ReadModelSeal, row: dict[str, Any]) -> dict[str, Any]:
    """A ``booking_view`` row as stored: the person sealed, found by hashes."""
    tenant = row["tenant_id"]
    name, phone, email = row["customer_name"], row["phone"], row["email"]
    return {
        **row,
        "customer_name": seal.seal(tenant, name),
        "phone": seal.seal(tenant, phone),
        "email": seal.seal(tenant, email),
        "phone_index": seal.index(tenant, "phone", phone),
        "email_index": seal.index(tenant, "email", email),
        "search_grams": seal.grams(tenant, {"name": name, "phone": phone, "email": email}),
        "sealed": True,
    }


def _opened_view(seal: ReadModelSeal, row: DictRow) -> dict[str, Any]:
    tenant = row["tenant_id"]
    opened = {k: v for k, v in row.items() if k not in _SEARCH_COLUMNS}
    for column in ("customer_name", "phone", "email"):
        opened[column] = seal.open(tenant, row[column])
    return opened


_SEARCH_COLUMNS = frozenset({"phone_index", "email_index", "search_grams", "sealed"})


def upsert_bookings(
    cursor: Cursor[DictRow], schema: str, rows: Sequence[dict[str, Any]], seal: ReadModelSeal
) -> None:
    """Write the rows (newer versions only, the person sealed) in one pipelined round
    trip, and tell listeners (on commit) which bookings changed, in one statement."""
    if not rows:
        return
    stored = [_sealed_view(seal, row) for row in rows]
    cursor.executemany(_upsert_statement(schema, tuple(stored[0])), stored)
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
def _upsert_statement(schema: str, columns: tuple[str, ...]) -> bytes:
    """Rendered once: psycopg renders a composed statement on every execute (this one
    was 1.7 % of the booking process at 50 bookings/s, py-spy)."""
    return (
        sql.SQL(
            "INSERT INTO {}.booking_view ({}) VALUES ({}) ON CONFLICT (booking_id) DO UPDATE"
            " SET {} WHERE booking_view.version < EXCLUDED.version"
        )
        .format(
            sql.Identifier(schema),
            sql.SQL(", ").join(map(sql.Identifier, columns)),
            sql.SQL(", ").join(sql.Placeholder(c) for c in columns),
            sql.SQL(", ").join(
                sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(c), sql.Identifier(c))
                for c in columns
                if c != "booking_id"
            ),
        )
        .as_bytes(None)
    )


def _sealed_entry(seal: ReadModelSeal, entry: Entry) -> dict[str, Any]:
    """A timeline line as stored: what it says and who it is about sealed (a summary
    may quote a voicemail), found by hashes of the phone, e-mail and name."""
    return {**entry.__dict__, **_sealed_parts(seal, entry.tenant_id, entry.__dict__)}


def _sealed_parts(seal: ReadModelSeal, tenant: str, line: dict[str, Any]) -> dict[str, Any]:
    """A line's summary, facts, phone, e-mail and name sealed, and their hashes."""
    return {
        "summary": seal.seal(tenant, line["summary"]),
        "facts": Jsonb(seal.seal_json(tenant, line["facts"] or {})),
        "phone": seal.seal(tenant, line["phone"]),
        "email": seal.seal(tenant, line["email"]),
        "name": seal.seal(tenant, line["name"]),
        "phone_index": seal.index(tenant, "phone", line["phone"]),
        "email_index": seal.index(tenant, "email", line["email"]),
        "search_grams": seal.grams(tenant, {"name": line["name"], "phone": line["phone"]}),
    }


def add_entries(
    cursor: Cursor[DictRow], schema: str, entries: Sequence[Entry], seal: ReadModelSeal
) -> None:
    if not entries:
        return
    cursor.executemany(_add_entries_statement(schema), [_sealed_entry(seal, e) for e in entries])


@functools.cache
def _add_entries_statement(schema: str) -> bytes:
    """Rendered once, as :func:`_upsert_statement`."""
    return (
        sql.SQL(
            "INSERT INTO {}.timeline (entry_id, tenant_id, occurred_at, kind, summary, phone,"
            " email, call_id, task_id, booking_id, notification_id, caller_id, name, facts,"
            " phone_index, email_index, search_grams, sealed)"
            " VALUES (%(entry_id)s, %(tenant_id)s, %(occurred_at)s,"
            " %(kind)s, %(summary)s, %(phone)s, %(email)s, %(call_id)s, %(task_id)s,"
            " %(booking_id)s, %(notification_id)s, %(caller_id)s, %(name)s, %(facts)s,"
            " %(phone_index)s, %(email_index)s, %(search_grams)s, true)"
            " ON CONFLICT (entry_id) DO NOTHING"
        )
        .format(sql.Identifier(schema))
        .as_bytes(None)
    )


def seal_legacy_rows(
    cursor: Cursor[DictRow], schema: str, seal: ReadModelSeal, batch: int = 500
) -> int:
    """Seal the rows written before the read models were sealed (on start, a batch at a
    time; replicas starting together skip each other's rows). How many were sealed."""
    done = 0
    views = sql.Identifier(schema, "booking_view")
    while True:
        cursor.execute(
            sql.SQL(
                "SELECT booking_id, tenant_id, customer_name, phone, email FROM {}"
                " WHERE NOT sealed LIMIT %s FOR UPDATE SKIP LOCKED"
            ).format(views),
            (batch,),
        )
        rows = [_sealed_view(seal, dict(row)) for row in cursor.fetchall()]
        if not rows:
            break
        cursor.executemany(
            sql.SQL(
                "UPDATE {} SET customer_name = %(customer_name)s, phone = %(phone)s,"
                " email = %(email)s, phone_index = %(phone_index)s,"
                " email_index = %(email_index)s, search_grams = %(search_grams)s,"
                " sealed = true WHERE booking_id = %(booking_id)s"
            ).format(views),
            rows,
        )
        done += len(rows)
    lines = sql.Identifier(schema, "timeline")
    while True:
        cursor.execute(
            sql.SQL(
                "SELECT entry_id, tenant_id, summary, facts, phone, email, name FROM {}"
                " WHERE NOT sealed LIMIT %s FOR UPDATE SKIP LOCKED"
            ).format(lines),
            (batch,),
        )
        found = cursor.fetchall()
        if not found:
            break
        cursor.executemany(
            sql.SQL(
                "UPDATE {} SET summary = %(summary)s, facts = %(facts)s, phone = %(phone)s,"
                " email = %(email)s, name = %(name)s, phone_index = %(phone_index)s,"
                " email_index = %(email_index)s, search_grams = %(search_grams)s,"
                " sealed = true WHERE entry_id = %(entry_id)s"
            ).format(lines),
            [
                {"entry_id": row["entry_id"], **_sealed_parts(seal, row["tenant_id"], row)}
                for row in found
            ],
        )
        done += len(found)
    return done


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
    cursor: Cursor[DictRow],
    schema: str,
    tenant_id: str,
    wanted: DaySheetFilter,
    seal: ReadModelSeal,
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
    return [_opened_view(seal, row) for row in cursor.fetchall()]


def timeline(
    cursor: Cursor[DictRow],
    schema: str,
    tenant_id: str,
    phone: str | None,
    email: str | None,
    limit: int,
    seal: ReadModelSeal,
) -> list[dict[str, Any]]:
    """Every line about a customer: those with their phone or e-mail, and those tied
    to one of those lines by a call, task, booking or message id (read-time join, so
    the order the lines arrived in does not matter)."""
    cursor.execute(
        sql.SQL(
            "WITH mine AS (SELECT * FROM {t} WHERE tenant_id = %(tenant)s"
            " AND (phone_index = %(phone)s OR email_index = %(email)s))"
            " SELECT occurred_at, kind, summary, coalesce(facts, '{{}}') AS facts, call_id,"
            " task_id, booking_id FROM {t}"
            " WHERE tenant_id = %(tenant)s AND (phone_index = %(phone)s"
            " OR email_index = %(email)s"
            " OR call_id IN (SELECT call_id FROM mine WHERE call_id IS NOT NULL)"
            " OR task_id IN (SELECT task_id FROM mine WHERE task_id IS NOT NULL)"
            " OR booking_id IN (SELECT booking_id FROM mine WHERE booking_id IS NOT NULL)"
            " OR notification_id IN"
            " (SELECT notification_id FROM mine WHERE notification_id IS NOT NULL))"
            " ORDER BY occurred_at DESC LIMIT %(limit)s"
        ).format(t=sql.SQL("{}.timeline").format(sql.Identifier(schema))),
        {
            "tenant": tenant_id,
            "phone": seal.index(tenant_id, "phone", phone),
            "email": seal.index(tenant_id, "email", email),
            "limit": limit,
        },
    )
    return [
        {
            **row,
            "summary": seal.open(tenant_id, row["summary"]),
            "facts": seal.open_json(tenant_id, row["facts"]),
        }
        for row in cursor.fetchall()
    ]


def erase_customer(
    cursor: Cursor[DictRow],
    schema: str,
    tenant_id: str,
    customer_id: UUID,
    phone: str | None,
    email: str | None,
    seal: ReadModelSeal,
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
            "UPDATE {b} SET customer_name = %(erased)s, phone = NULL, email = NULL,"
            " phone_index = NULL, email_index = NULL, search_grams = NULL"
            " WHERE tenant_id = %(tenant)s AND customer_id = %(customer)s RETURNING booking_id"
        ).format(**tables),
        {"erased": ERASED, "tenant": tenant_id, "customer": customer_id},
    )
    bookings = [row["booking_id"] for row in cursor.fetchall()]
    cursor.execute(
        sql.SQL(
            "WITH mine AS (SELECT * FROM {t} WHERE tenant_id = %(tenant)s"
            " AND (phone_index = %(phone)s OR email_index = %(email)s"
            " OR caller_id = %(customer)s))"
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
            "phone": seal.index(tenant_id, "phone", phone),
            "email": seal.index(tenant_id, "email", email),
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


SEARCH_CANDIDATES = 5000
"""At most this many rows (the latest bookings first) are opened for one search: a
query of two common letters matches many rows by their pieces alone."""


@dataclass(frozen=True)
class _Search:
    """What the search box asked, and the hashed pieces a row must have to match it
    (None where the query has no piece of that kind: no row matches that way)."""

    text: str
    digits: str
    name: list[str] | None
    email: list[str] | None
    phone: list[str] | None

    @classmethod
    def of(cls, seal: ReadModelSeal, tenant_id: str, text: str) -> _Search:
        digits = digits_of(text)

        def hashed(kind: str, query: str) -> list[str] | None:
            return seal.query_grams(tenant_id, kind, query) or None

        return cls(
            text=text.casefold(),
            digits=digits,
            name=hashed("name", text),
            email=hashed("email", text),
            phone=hashed("phone", digits) if len(digits) >= 2 else None,
        )

    def params(self, tenant_id: str) -> dict[str, Any]:
        return {"tenant": tenant_id, "name": self.name, "email": self.email, "phone": self.phone}

    def contains(self, text: str | None) -> bool:
        return text is not None and self.text in text.casefold()

    def in_phone(self, phone: str | None) -> bool:
        return bool(self.digits) and phone is not None and self.digits in digits_of(phone)


def find_customers(
    cursor: Cursor[DictRow],
    schema: str,
    tenant_id: str,
    text: str,
    limit: int,
    seal: ReadModelSeal,
) -> list[dict[str, Any]]:
    """Customers whose name contains ``text`` or whose phone contains its digits, with
    their latest booking's start — the front desk's search box. Rows are found by their
    hashed pieces, then opened and matched in full."""
    wanted = _Search.of(seal, tenant_id, text)
    cursor.execute(
        sql.SQL(
            "SELECT customer_id, customer_name, phone, email, slot_start FROM {}"
            " WHERE tenant_id = %(tenant)s AND (search_grams @> %(name)s"
            " OR search_grams @> %(email)s OR search_grams @> %(phone)s)"
            " ORDER BY slot_start DESC LIMIT %(candidates)s"
        ).format(sql.Identifier(schema, "booking_view")),
        {**wanted.params(tenant_id), "candidates": SEARCH_CANDIDATES},
    )
    latest: dict[UUID, dict[str, Any]] = {}
    for row in cursor.fetchall():
        if row["customer_id"] in latest:
            continue
        name, phone = seal.open(tenant_id, row["customer_name"]), seal.open(tenant_id, row["phone"])
        email = seal.open(tenant_id, row["email"])
        if wanted.contains(name) or wanted.in_phone(phone) or wanted.contains(email):
            latest[row["customer_id"]] = {
                "customer_id": row["customer_id"],
                "name": name,
                "phone": phone,
                "email": email,
                "latest_visit": row["slot_start"],
            }
    found = list(latest.values())
    if len(found) < limit:
        found += find_callers(cursor, schema, tenant_id, text, limit - len(found), seal)
    found.sort(key=lambda row: (row["name"] or "").lower())
    return found[:limit]


def _callers_lines(
    cursor: Cursor[DictRow], schema: str, tenant_id: str, callers: list[Any], seal: ReadModelSeal
) -> dict[UUID, dict[str, Any]]:
    """Each caller's phone, the name a lead gave (if any) and their latest line's time."""
    cursor.execute(
        sql.SQL(
            "SELECT caller_id, phone, name, occurred_at FROM {} WHERE tenant_id = %s"
            " AND caller_id = ANY(%s)"
        ).format(sql.Identifier(schema, "timeline")),
        (tenant_id, callers),
    )
    who: dict[UUID, dict[str, Any]] = {}
    for row in cursor.fetchall():
        seen = who.setdefault(
            row["caller_id"], {"phone": None, "name": None, "last_contact": row["occurred_at"]}
        )
        seen["phone"] = seen["phone"] or seal.open(tenant_id, row["phone"])
        name = seal.open(tenant_id, row["name"])
        if name is not None and (seen["name"] is None or name > seen["name"]):
            seen["name"] = name
        seen["last_contact"] = max(seen["last_contact"], row["occurred_at"])
    return who


def find_callers(
    cursor: Cursor[DictRow],
    schema: str,
    tenant_id: str,
    text: str,
    limit: int,
    seal: ReadModelSeal,
) -> list[dict[str, Any]]:
    """People who called, messaged or left a lead but never booked, by the digits of
    their phone or the name a lead gave: ``customer_id`` is the id their record will
    have once they book (``caller``: true; ``last_contact`` their latest line)."""
    wanted = _Search.of(seal, tenant_id, text)
    cursor.execute(
        sql.SQL(
            "SELECT DISTINCT caller_id FROM {t} WHERE tenant_id = %(tenant)s"
            " AND caller_id IS NOT NULL"
            " AND caller_id NOT IN (SELECT customer_id FROM {b} WHERE tenant_id = %(tenant)s)"
            " AND (search_grams @> %(name)s OR search_grams @> %(phone)s) LIMIT %(candidates)s"
        ).format(t=sql.Identifier(schema, "timeline"), b=sql.Identifier(schema, "booking_view")),
        {**wanted.params(tenant_id), "candidates": SEARCH_CANDIDATES},
    )
    callers = [row["caller_id"] for row in cursor.fetchall()]
    if not callers:
        return []
    found = [
        {
            "customer_id": caller_id,
            "name": seen["name"],
            "phone": seen["phone"],
            "email": None,
            "latest_visit": None,
            "last_contact": seen["last_contact"],
            "caller": True,
        }
        for caller_id, seen in _callers_lines(cursor, schema, tenant_id, callers, seal).items()
        if wanted.in_phone(seen["phone"]) or wanted.contains(seen["name"])
    ]
    found.sort(key=lambda row: row["last_contact"], reverse=True)
    return found[:limit]


def caller(
    cursor: Cursor[DictRow], schema: str, tenant_id: str, caller_id: UUID, seal: ReadModelSeal
) -> dict[str, Any] | None:
    """Who a caller is (phone, the name a lead gave), from their lines; None if no line."""
    seen = _callers_lines(cursor, schema, tenant_id, [caller_id], seal).get(caller_id)
    return None if seen is None else {"phone": seen["phone"], "name": seen["name"]}
