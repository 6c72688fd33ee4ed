"""Questions the live view answers straight from its tables (no slot finding per request)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from psycopg import Cursor, sql
from psycopg.rows import DictRow


@dataclass(frozen=True)
class SlotQuery:
    """Which slots to list; ``resource_id`` keeps slots that resource is free for."""

    tenant_id: str
    location_id: UUID | None = None
    service_id: UUID | None = None
    resource_id: UUID | None = None
    duration_minutes: int | None = None
    start_from: datetime | None = None
    until: datetime | None = None
    include_booked: bool = False
    limit: int = 100


_SLOT_COLUMNS = (
    "service_id, location_id, local_day, slot_start, slot_end, status, free_resources,"
    " seats_left, alternatives, resource_ids, duration_minutes"
)


def find_slots(
    cursor: Cursor[DictRow], schema: str, query: SlotQuery, now: datetime
) -> list[dict[str, Any]]:
    """Bookable slots, soonest first; never one that is too soon to book."""
    statement, params = _slots_statement(schema, query, now, _SLOT_COLUMNS)
    cursor.execute(statement, params)
    return list(cursor.fetchall())


def find_slots_json(cursor: Cursor[DictRow], schema: str, query: SlotQuery, now: datetime) -> str:
    """:func:`find_slots` as the JSON array the HTTP answer sends, each slot's JSON as the
    projector stored it (``answer``, :data:`board.SLOT_ANSWER`).

    Why: decoding hundreds of rows (UUID arrays, timestamps) into Python objects and
    encoding them again was most of a slot query's time in the service (py-spy: ~65 %
    of the api process's samples in the slots benchmark); PostgreSQL making the JSON of
    each row when asked was then most of the statement (a week of a 40-resource clinic,
    308 slots: 4.3 of 5.4 ms, ``EXPLAIN ANALYZE``), so it is made once, when written."""
    statement, params = _slots_statement(schema, query, now, "answer, slot_start, service_id")
    cursor.execute(
        sql.SQL(
            "SELECT coalesce(json_agg(s.answer ORDER BY s.slot_start, s.service_id), '[]')::text"
            " AS slots FROM ({}) s"
        ).format(statement),
        params,
    )
    row = cursor.fetchone()
    return str(row["slots"]) if row is not None else "[]"


def _slots_statement(
    schema: str, query: SlotQuery, now: datetime, columns: str
) -> tuple[sql.Composed, dict[str, Any]]:
    where = [
        sql.SQL("tenant_id = %(tenant)s"),
        sql.SQL("slot_start >= %(now)s + make_interval(mins => notice_minutes)"),
    ]
    params: dict[str, Any] = {"tenant": query.tenant_id, "now": now, "limit": query.limit}
    optional = {
        "location_id": (query.location_id, "location_id = %(location_id)s"),
        "service_id": (query.service_id, "service_id = %(service_id)s"),
        "resource_id": (query.resource_id, "%(resource_id)s = ANY(resource_ids)"),
        "duration": (query.duration_minutes, "duration_minutes = %(duration)s"),
        "start_from": (query.start_from, "slot_start >= %(start_from)s"),
        "until": (query.until, "slot_start < %(until)s"),
    }
    for name, (value, clause) in optional.items():
        if value is not None:
            params[name] = value
            where.append(sql.SQL(clause))
    if not query.include_booked:
        where.append(sql.SQL("status <> 'booked'"))
    statement = sql.SQL(
        "SELECT {} FROM {} WHERE {} ORDER BY slot_start, service_id LIMIT %(limit)s"
    ).format(
        sql.SQL(columns),
        sql.Identifier(schema, "slot_view"),
        sql.SQL(" AND ").join(where),
    )
    return statement, params


def day_view(
    cursor: Cursor[DictRow], schema: str, service_id: UUID, location_id: UUID, day: date
) -> list[dict[str, Any]]:
    """Every stored slot of one service on one day, booked ones included, in order."""
    cursor.execute(
        sql.SQL(
            "SELECT slot_start, slot_end, status, free_resources, seats_left, alternatives,"
            " resource_ids FROM {} WHERE service_id = %s AND location_id = %s"
            " AND local_day = %s ORDER BY slot_start"
        ).format(sql.Identifier(schema, "slot_view")),
        (service_id, location_id, day),
    )
    return list(cursor.fetchall())


def find_holds(
    cursor: Cursor[DictRow],
    schema: str,
    tenant_id: str,
    *,
    status: str | None = None,
    location_id: UUID | None = None,
    resource_id: UUID | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """A tenant's holds and allocations, soonest slot first."""
    where = [sql.SQL("tenant_id = %(tenant)s")]
    params: dict[str, Any] = {"tenant": tenant_id, "limit": limit}
    optional = {
        "status": (status, "status = %(status)s"),
        "location_id": (location_id, "location_id = %(location_id)s"),
        "resource_id": (resource_id, "%(resource_id)s = ANY(resource_ids)"),
    }
    for name, (value, clause) in optional.items():
        if value is not None:
            params[name] = value
            where.append(sql.SQL(clause))
    cursor.execute(
        sql.SQL(
            "SELECT hold_id, hold_key, booking_request_id, service_id, location_id,"
            " slot_start, slot_end, resource_ids, seats, status, expires_at"
            " FROM {} WHERE {} ORDER BY slot_start LIMIT %(limit)s"
        ).format(sql.Identifier(schema, "hold_view"), sql.SQL(" AND ").join(where)),
        params,
    )
    return list(cursor.fetchall())


def lapsed_holds(cursor: Cursor[DictRow], schema: str, now: datetime, limit: int) -> list[UUID]:
    """Held holds whose time ran out: the expiry job's work list."""
    cursor.execute(
        sql.SQL(
            "SELECT hold_id FROM {} WHERE status = 'held' AND expires_at <= %s"
            " ORDER BY expires_at LIMIT %s"
        ).format(sql.Identifier(schema, "hold_view")),
        (now, limit),
    )
    return [row["hold_id"] for row in cursor.fetchall()]
