"""Loading the fact records one tenant's report for one period needs."""

from __future__ import annotations

from typing import Any

from psycopg import Cursor, sql
from psycopg.rows import DictRow

from slotline.analytics.domain.facts import (
    BookingFact,
    CallbackFact,
    CallFact,
    Period,
    RequestFact,
    WaitlistFact,
    WaitlistOfferFact,
)
from slotline.analytics.domain.report import Facts

_REQUESTS = """
SELECT r.request_id, r.channel, r.requested_at, b.confirmed_at
FROM {schema}.booking_request r
LEFT JOIN {schema}.booking b ON b.tenant_id = r.tenant_id AND b.booking_id = r.booking_id
WHERE r.tenant_id = %(tenant)s AND r.requested_at >= %(start)s AND r.requested_at < %(end)s
"""

_BOOKING_COLUMNS = """
booking_id, confirmed_at, slot_start, slot_end, time_zone, resource_ids,
cancelled_at, cancelled_late, completed_at, no_show_at
"""

_BOOKINGS = (
    "SELECT "
    + _BOOKING_COLUMNS
    + """
FROM {schema}.booking
WHERE tenant_id = %(tenant)s AND (
    (confirmed_at >= %(start)s AND confirmed_at < %(end)s)
    OR (slot_start >= %(start)s AND slot_start < %(end)s)
    OR (cancelled_at >= %(start)s AND cancelled_at < %(end)s))
"""
)

_REFILL_CANDIDATES = (
    "SELECT "
    + _BOOKING_COLUMNS
    + """
FROM {schema}.booking
WHERE tenant_id = %(tenant)s AND confirmed_at >= %(start)s AND confirmed_at < %(until)s
"""
)

_CALLS = """
SELECT call_id, received_at, missed_at, texted_back_at
FROM {schema}.call
WHERE tenant_id = %(tenant)s
  AND coalesce(received_at, missed_at) >= %(start)s AND coalesce(received_at, missed_at) < %(end)s
"""

_CALLBACKS = """
SELECT t.task_id, t.created_at, c.missed_at AS lead_at, t.deadline, t.first_attempt_at,
       t.closed_at
FROM {schema}.callback_task t
LEFT JOIN {schema}.call c ON c.tenant_id = t.tenant_id AND c.call_id = t.call_id
WHERE t.tenant_id = %(tenant)s AND t.created_at >= %(start)s AND t.created_at < %(end)s
"""

_WAITLIST = """
SELECT entry_id, service_id, joined_at, offered_at, claimed_at, passed_at, left_at
FROM {schema}.waitlist_entry
WHERE tenant_id = %(tenant)s AND (
    (joined_at >= %(start)s AND joined_at < %(end)s)
    OR (offered_at >= %(start)s AND offered_at < %(end)s)
    OR (claimed_at >= %(start)s AND claimed_at < %(end)s)
    OR (passed_at >= %(start)s AND passed_at < %(end)s)
    OR (left_at >= %(start)s AND left_at < %(end)s))
"""

_WAITLIST_OFFERS = """
SELECT booking_id, service_id, location_id, slot_start, slot_freed_at, slot_freed_by,
       freed_booking_id, offered_at, claimed_at, passed_at
FROM {schema}.waitlist_offer
WHERE tenant_id = %(tenant)s AND slot_freed_at >= %(start)s AND slot_freed_at < %(end)s
"""


def facts_for(cursor: Cursor[DictRow], schema: str, tenant_id: str, period: Period) -> Facts:
    """Every fact record that can count towards ``tenant_id``'s report for ``period``."""
    params: dict[str, Any] = {"tenant": tenant_id, "start": period.start, "end": period.end}

    def rows(query: str, **extra: Any) -> list[DictRow]:
        statement = sql.SQL(query).format(schema=sql.Identifier(schema))
        cursor.execute(statement, {**params, **extra})
        return cursor.fetchall()

    bookings = [_booking(row) for row in rows(_BOOKINGS)]
    freed_starts = [b.slot_start for b in bookings if b.cancelled_at in period and b.slot_start]
    candidates = (
        [_booking(row) for row in rows(_REFILL_CANDIDATES, until=max(freed_starts))]
        if freed_starts
        else []
    )
    return Facts(
        requests=[RequestFact(**row) for row in rows(_REQUESTS)],
        bookings=bookings,
        refill_candidates=candidates,
        calls=[CallFact(**row) for row in rows(_CALLS)],
        callbacks=[CallbackFact(**row) for row in rows(_CALLBACKS)],
        waitlist=[WaitlistFact(**row) for row in rows(_WAITLIST)],
        waitlist_offers=[WaitlistOfferFact(**row) for row in rows(_WAITLIST_OFFERS)],
    )


def _booking(row: DictRow) -> BookingFact:
    return BookingFact(
        **{
            **row,
            "resource_ids": tuple(row["resource_ids"] or ()),
            "cancelled_late": bool(row["cancelled_late"]),
        }
    )
