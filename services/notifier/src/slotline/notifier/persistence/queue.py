"""The message queue: rows that say what to send, to whom, and from when.

A row is claimed (``scheduled`` → ``sending``) in its own committed transaction before
anything is sent, and finished (``done``, ``failed``, ``skipped``) or put back
(``scheduled`` with a later ``due_at``) after. A row still ``sending`` after a crash is
never sent again: it becomes ``interrupted`` (see the README on at-most-once).
"""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

from psycopg.types.json import Jsonb

from slotline.notifier.domain.outgoing import BULK, PROMPT, QueuedMessage
from slotline.notifier.persistence.personal_rows import MESSAGE, opened, sealed

if TYPE_CHECKING:
    from slotline.notifier.persistence.unit_of_work import UnitOfWork

SCHEDULED, SENDING, DONE, FAILED, SKIPPED, INTERRUPTED = (
    "scheduled",
    "sending",
    "done",
    "failed",
    "skipped",
    "interrupted",
)

_DATES = ("due_at", "useful_until")

LANE_ROWS = {PROMPT: "reminder_kind IS NULL", BULK: "reminder_kind IS NOT NULL"}
"""The rows of each lane (:attr:`QueuedMessage.lane`), each with its partial index."""


def to_body(message: QueuedMessage) -> dict[str, Any]:
    body = asdict(message)
    for key in _DATES:
        body[key] = body[key].isoformat() if body[key] else None
    body["channels"] = list(message.channels)
    return body


def from_body(body: dict[str, Any]) -> QueuedMessage:
    known = {f.name for f in fields(QueuedMessage)}
    values = {k: v for k, v in body.items() if k in known}
    for key in _DATES:
        if values.get(key):
            values[key] = datetime.fromisoformat(values[key])
    values["channels"] = tuple(values["channels"])
    return QueuedMessage(**values)


def enqueue(work: UnitOfWork, message: QueuedMessage) -> bool:
    """Queue ``message`` unless its key is queued already; True when queued now."""
    cursor = work.execute(
        "INSERT INTO {messages} (tenant_id, key, notification_id, body, due_at, state,"
        " booking_id, reminder_kind) VALUES (%s, %s, %s, %s, %s, 'scheduled', %s, %s)"
        " ON CONFLICT (tenant_id, key) DO NOTHING",
        (
            message.tenant_id,
            message.key,
            message.notification_id,
            Jsonb(sealed(to_body(message), MESSAGE, work.vault)),
            message.due_at,
            message.booking_id,
            message.reminder_kind,
        ),
    )
    return cursor.rowcount == 1


def claim_due(
    work: UnitOfWork, now: datetime, limit: int, lane: str | None = None
) -> list[QueuedMessage]:
    """Claim up to ``limit`` due rows of ``lane`` (every lane if None), earliest first;
    other replicas skip rows being claimed."""
    rows = work.execute(
        "UPDATE {messages} m SET state = 'sending', claimed_at = %(now)s"
        " FROM (SELECT tenant_id, key FROM {messages}"
        "       WHERE state = 'scheduled' AND due_at <= %(now)s"
        f"      AND {LANE_ROWS[lane] if lane else 'true'}"
        "       ORDER BY due_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED) due"
        " WHERE m.tenant_id = due.tenant_id AND m.key = due.key"
        " RETURNING m.body, m.due_at",
        {"now": now, "limit": limit},
    ).fetchall()
    claimed = []
    for row in rows:
        message = from_body(opened(row["body"], MESSAGE, work.vault))
        claimed.append(_with_due(message, row["due_at"]))
    return sorted(claimed, key=lambda m: m.due_at)


def _with_due(message: QueuedMessage, due_at: datetime) -> QueuedMessage:
    if message.due_at == due_at:
        return message
    body = to_body(message)
    body["due_at"] = due_at.isoformat()
    return from_body(body)


Finished = tuple[QueuedMessage, str, str]  # message, new state, outcome


def finish_many(work: UnitOfWork, finished: list[Finished], now: datetime) -> None:
    work.execute_many(
        "UPDATE {messages} SET state = %s, outcome = %s, finished_at = %s"
        " WHERE tenant_id = %s AND key = %s",
        [(state, outcome[:500], now, m.tenant_id, m.key) for m, state, outcome in finished],
    )


def defer_many(work: UnitOfWork, deferred: list[tuple[QueuedMessage, datetime]]) -> None:
    work.execute_many(
        "UPDATE {messages} SET state = 'scheduled', due_at = %s, claimed_at = NULL"
        " WHERE tenant_id = %s AND key = %s",
        [(until, m.tenant_id, m.key) for m, until in deferred],
    )


def skip_scheduled_for_booking(
    work: UnitOfWork, tenant_id: str, booking_id: str, reason: str, now: datetime
) -> list[tuple[str | None, str]]:
    """Skip the booking's waiting messages; returns (reminder kind, key) of each."""
    rows = work.execute(
        "UPDATE {messages} SET state = 'skipped', outcome = %s, finished_at = %s"
        " WHERE tenant_id = %s AND booking_id = %s AND state = 'scheduled'"
        " RETURNING reminder_kind, key",
        (reason, now, tenant_id, booking_id),
    ).fetchall()
    return [(r["reminder_kind"], r["key"]) for r in rows]


def interrupt_stale(
    work: UnitOfWork, claimed_before: datetime, now: datetime
) -> list[QueuedMessage]:
    """Rows claimed by a process that died mid-send: marked, never sent again."""
    rows = work.execute(
        "UPDATE {messages} SET state = 'interrupted', finished_at = %s,"
        " outcome = 'interrupted while sending: not resent (at most once)'"
        " WHERE state = 'sending' AND claimed_at < %s RETURNING body",
        (now, claimed_before),
    ).fetchall()
    return [from_body(opened(r["body"], MESSAGE, work.vault)) for r in rows]


def state_counts(work: UnitOfWork, tenant_id: str) -> dict[str, int]:
    rows = work.execute(
        "SELECT state, count(*) AS n FROM {messages} WHERE tenant_id = %s GROUP BY state",
        (tenant_id,),
    ).fetchall()
    return {r["state"]: int(r["n"]) for r in rows}
