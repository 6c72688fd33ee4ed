"""Outbound webhooks' rows: subscriptions, deliveries (the durable retry queue) and
attempts (the delivery log).

A delivery is claimed (``scheduled`` → ``sending``, its attempt counted) in its own
committed transaction before it is sent, and finished (``delivered``, ``failed``) or put
back (``scheduled`` at its next attempt) after. A claim older than any send can take
was left by a sender that died mid-delivery: it is put back and sent again with the
same ``webhook-id`` (at least once; the receiver de-duplicates by id).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from slotline.events.sealing import SecretBox
from slotline.notifier.domain.webhooks import ACTIVE, Health, SigningKey
from slotline.notifier.persistence.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Subscription:
    tenant_id: str
    subscription_id: str
    url: str
    event_types: tuple[str, ...]
    description: str
    notify_email: str | None
    keys: tuple[SigningKey, ...]
    state: str
    paused_reason: str | None
    health: Health
    created_at: datetime

    @property
    def active(self) -> bool:
        return self.state == ACTIVE


@dataclass(frozen=True)
class Claimed:
    """A delivery claimed for one attempt, with what sending it needs."""

    delivery_id: str
    tenant_id: str
    subscription_id: str
    body: str
    attempt: int
    window_start: datetime
    url: str
    keys: tuple[SigningKey, ...]


@dataclass(frozen=True)
class AttemptOutcome:
    """What one attempt got: a status (2xx = delivered) or an error, and how long."""

    delivery: Claimed
    at: datetime
    status: int | None
    latency_ms: float
    excerpt: str = ""
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _owner(tenant_id: str, subscription_id: str) -> str:
    """What a subscription's sealed secrets belong to: moved to another row, they do
    not open."""
    return f"{tenant_id}/{subscription_id}"


def _keys(raw: Any, box: SecretBox, owner: str) -> tuple[SigningKey, ...]:
    return tuple(
        SigningKey(
            box.open_text(owner, k["secret"]),
            datetime.fromisoformat(k["expires_at"]) if k["expires_at"] else None,
        )
        for k in raw
    )


def keys_json(keys: Sequence[SigningKey], box: SecretBox, owner: str) -> Jsonb:
    """The signing keys as stored: each secret sealed (``SLOTLINE_WEBHOOK_SECRETS_KEY``)."""
    return Jsonb(
        [
            {
                "secret": box.seal_text(owner, k.secret),
                "expires_at": k.expires_at.isoformat() if k.expires_at else None,
            }
            for k in keys
        ]
    )


def _subscription(row: dict[str, Any], box: SecretBox) -> Subscription:
    return Subscription(
        tenant_id=row["tenant_id"],
        subscription_id=row["subscription_id"],
        url=row["url"],
        event_types=tuple(row["event_types"]),
        description=row["description"],
        notify_email=row["notify_email"],
        keys=_keys(row["keys"], box, _owner(row["tenant_id"], row["subscription_id"])),
        state=row["state"],
        paused_reason=row["paused_reason"],
        health=Health(row["failures"], row["failing_since"]),
        created_at=row["created_at"],
    )


# --- subscriptions ---------------------------------------------------------------------


def insert_subscription(work: UnitOfWork, s: Subscription, box: SecretBox) -> None:
    work.execute(
        "INSERT INTO {webhook_subscriptions} (tenant_id, subscription_id, url, event_types,"
        " description, notify_email, keys, state, created_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            s.tenant_id,
            s.subscription_id,
            s.url,
            list(s.event_types),
            s.description,
            s.notify_email,
            keys_json(s.keys, box, _owner(s.tenant_id, s.subscription_id)),
            s.state,
            s.created_at,
        ),
    )


def subscription(
    work: UnitOfWork, tenant_id: str, subscription_id: str, box: SecretBox, *, lock: bool = False
) -> Subscription | None:
    row = work.execute(
        "SELECT * FROM {webhook_subscriptions} WHERE tenant_id = %s AND subscription_id = %s"
        + (" FOR UPDATE" if lock else ""),
        (tenant_id, subscription_id),
    ).fetchone()
    return _subscription(row, box) if row else None


def subscriptions_of(work: UnitOfWork, tenant_id: str, box: SecretBox) -> list[Subscription]:
    rows = work.execute(
        "SELECT * FROM {webhook_subscriptions} WHERE tenant_id = %s ORDER BY created_at",
        (tenant_id,),
    ).fetchall()
    return [_subscription(r, box) for r in rows]


def update_subscription(work: UnitOfWork, s: Subscription, box: SecretBox) -> None:
    work.execute(
        "UPDATE {webhook_subscriptions} SET url = %s, event_types = %s, description = %s,"
        " notify_email = %s, keys = %s, state = %s, paused_reason = %s, failures = %s,"
        " failing_since = %s WHERE tenant_id = %s AND subscription_id = %s",
        (
            s.url,
            list(s.event_types),
            s.description,
            s.notify_email,
            keys_json(s.keys, box, _owner(s.tenant_id, s.subscription_id)),
            s.state,
            s.paused_reason,
            s.health.failures,
            s.health.failing_since,
            s.tenant_id,
            s.subscription_id,
        ),
    )


def delete_subscription(
    work: UnitOfWork, tenant_id: str, subscription_id: str, now: datetime
) -> bool:
    """Forget the subscription; its waiting deliveries are cancelled (the log stays)."""
    deleted = work.execute(
        "DELETE FROM {webhook_subscriptions} WHERE tenant_id = %s AND subscription_id = %s",
        (tenant_id, subscription_id),
    ).rowcount
    work.execute(
        "UPDATE {webhook_deliveries} SET state = 'cancelled', finished_at = %s"
        " WHERE tenant_id = %s AND subscription_id = %s AND state = 'scheduled'",
        (now, tenant_id, subscription_id),
    )
    return deleted == 1


# --- deliveries ------------------------------------------------------------------------


def fan_out(
    work: UnitOfWork,
    tenant_id: str,
    event_type: str,
    event_id: str,
    body: str,
    now: datetime,
    ids: dict[str, str],
    box: SecretBox,
) -> int:
    """One delivery per subscription of the tenant that wants ``event_type`` (paused ones
    included: their deliveries wait); ``ids`` maps each subscription id to its delivery
    id. A delivery already made (a redelivered event) is not made again. The body holds
    the tenant's customers' contact, so it is stored sealed (tenant and event bound in)."""
    if not ids:
        return 0
    body = box.seal_text(_body_owner(tenant_id, event_id), body)
    cursor = work.execute(
        "INSERT INTO {webhook_deliveries} (delivery_id, tenant_id, subscription_id, event_id,"
        " event_type, body, created_at, window_start, due_at, state)"
        " SELECT k.delivery_id, %s, k.subscription_id, %s, %s, %s, %s, %s, %s, 'scheduled'"
        " FROM unnest(%s::text[], %s::text[]) AS k(subscription_id, delivery_id)"
        " ON CONFLICT (delivery_id) DO NOTHING",
        (
            tenant_id,
            event_id,
            event_type,
            body,
            now,
            now,
            now,
            list(ids),
            list(ids.values()),
        ),
    )
    return cursor.rowcount


def wanting(work: UnitOfWork, tenant_id: str, event_type: str) -> list[str]:
    """The tenant's subscriptions that want ``event_type``."""
    rows = work.execute(
        "SELECT subscription_id FROM {webhook_subscriptions}"
        " WHERE tenant_id = %s AND %s = ANY(event_types)",
        (tenant_id, event_type),
    ).fetchall()
    return [r["subscription_id"] for r in rows]


def claim_due(work: UnitOfWork, now: datetime, limit: int, box: SecretBox) -> list[Claimed]:
    """Claim up to ``limit`` due deliveries of active subscriptions, earliest first,
    counting the attempt; other replicas skip the rows being claimed."""
    rows = work.execute(
        "UPDATE {webhook_deliveries} d SET state = 'sending', claimed_at = %(now)s,"
        " attempts = d.attempts + 1"
        " FROM (SELECT d.delivery_id, s.url, s.keys FROM {webhook_deliveries} d"
        "       JOIN {webhook_subscriptions} s"
        "         ON s.tenant_id = d.tenant_id AND s.subscription_id = d.subscription_id"
        "       WHERE d.state = 'scheduled' AND d.due_at <= %(now)s AND s.state = 'active'"
        "       ORDER BY d.due_at LIMIT %(limit)s FOR UPDATE OF d SKIP LOCKED) due"
        " WHERE d.delivery_id = due.delivery_id"
        " RETURNING d.delivery_id, d.tenant_id, d.subscription_id, d.event_id, d.body,"
        " d.attempts,"
        " d.window_start, due.url, due.keys",
        {"now": now, "limit": limit},
    ).fetchall()
    return [
        Claimed(
            delivery_id=r["delivery_id"],
            tenant_id=r["tenant_id"],
            subscription_id=r["subscription_id"],
            body=box.open_text(_body_owner(r["tenant_id"], r["event_id"]), r["body"]),
            attempt=r["attempts"],
            window_start=r["window_start"],
            url=r["url"],
            keys=_keys(r["keys"], box, _owner(r["tenant_id"], r["subscription_id"])),
        )
        for r in rows
    ]


def reclaim_stale(work: UnitOfWork, claimed_before: datetime, now: datetime) -> int:
    """Claims left by a sender that died mid-delivery: logged as interrupted and due
    again now (sent again with the same id: at least once)."""
    rows = work.execute(
        "UPDATE {webhook_deliveries} SET state = 'scheduled', due_at = %s, claimed_at = NULL"
        " WHERE state = 'sending' AND claimed_at < %s RETURNING delivery_id, attempts",
        (now, claimed_before),
    ).fetchall()
    work.execute_many(
        "INSERT INTO {webhook_attempts} (delivery_id, attempt, at, error)"
        " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
        [
            (r["delivery_id"], r["attempts"], now, "interrupted: the sender stopped mid-delivery")
            for r in rows
        ],
    )
    return len(rows)


def log_attempts(work: UnitOfWork, outcomes: Sequence[AttemptOutcome]) -> None:
    work.execute_many(
        "INSERT INTO {webhook_attempts} (delivery_id, attempt, at, status, latency_ms,"
        " response_excerpt, error) VALUES (%s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (delivery_id, attempt) DO UPDATE SET at = EXCLUDED.at,"
        " status = EXCLUDED.status, latency_ms = EXCLUDED.latency_ms,"
        " response_excerpt = EXCLUDED.response_excerpt, error = EXCLUDED.error",
        [
            (
                o.delivery.delivery_id,
                o.delivery.attempt,
                o.at,
                o.status,
                o.latency_ms,
                o.excerpt,
                o.error,
            )
            for o in outcomes
        ],
    )


def finish(
    work: UnitOfWork,
    delivery_id: str,
    state: str,
    due_at: datetime | None,
    outcome: AttemptOutcome,
) -> None:
    """The delivery after its attempt: ``delivered``, ``failed``, or ``scheduled`` again
    at ``due_at``. Only a claim still held is finished (a reclaimed one is not)."""
    work.execute(
        "UPDATE {webhook_deliveries} SET state = %s, due_at = coalesce(%s, due_at),"
        " claimed_at = NULL, finished_at = CASE WHEN %s = 'scheduled' THEN NULL ELSE %s END,"
        " last_status = %s, last_error = %s"
        " WHERE delivery_id = %s AND state = 'sending' AND attempts = %s",
        (
            state,
            due_at,
            state,
            outcome.at,
            outcome.status,
            outcome.error,
            delivery_id,
            outcome.delivery.attempt,
        ),
    )


def _body_owner(tenant_id: str, event_id: str) -> str:
    return f"webhook body|{tenant_id}|{event_id}"


def forget_finished(work: UnitOfWork, finished_before: datetime, limit: int) -> int:
    """Delete up to ``limit`` deliveries that ended (delivered, failed, cancelled) before
    ``finished_before``, with their attempts: the log is kept for a while, not for ever
    (its bodies are the customers' contact). How many went."""
    gone = work.execute(
        "DELETE FROM {webhook_deliveries} WHERE delivery_id IN ("
        " SELECT delivery_id FROM {webhook_deliveries}"
        " WHERE state IN ('delivered', 'failed', 'cancelled') AND finished_at < %s"
        " ORDER BY finished_at LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING delivery_id",
        (finished_before, limit),
    ).fetchall()
    ids = [r["delivery_id"] for r in gone]
    if ids:
        work.execute("DELETE FROM {webhook_attempts} WHERE delivery_id = ANY(%s)", (ids,))
    return len(ids)


def deliveries_of(
    work: UnitOfWork, tenant_id: str, subscription_id: str, state: str | None, limit: int
) -> list[dict[str, Any]]:
    rows = work.execute(
        "SELECT delivery_id, subscription_id, event_id, event_type, created_at, due_at, state,"
        " attempts, finished_at, last_status, last_error FROM {webhook_deliveries}"
        " WHERE tenant_id = %s AND subscription_id = %s AND (%s::text IS NULL OR state = %s)"
        " ORDER BY created_at DESC, delivery_id LIMIT %s",
        (tenant_id, subscription_id, state, state, limit),
    ).fetchall()
    return [dict(r) for r in rows]


def delivery(
    work: UnitOfWork, tenant_id: str, delivery_id: str, *, lock: bool = False
) -> dict[str, Any] | None:
    row = work.execute(
        "SELECT delivery_id, subscription_id, event_id, event_type, created_at, due_at, state,"
        " attempts, finished_at, last_status, last_error FROM {webhook_deliveries}"
        " WHERE tenant_id = %s AND delivery_id = %s" + (" FOR UPDATE" if lock else ""),
        (tenant_id, delivery_id),
    ).fetchone()
    return dict(row) if row else None


def attempts_of(work: UnitOfWork, delivery_id: str) -> list[dict[str, Any]]:
    rows = work.execute(
        "SELECT attempt, at, status, latency_ms, response_excerpt, error"
        " FROM {webhook_attempts} WHERE delivery_id = %s ORDER BY attempt",
        (delivery_id,),
    ).fetchall()
    return [dict(r) for r in rows]


def schedule_now(work: UnitOfWork, delivery_id: str, now: datetime, new_window: bool) -> None:
    work.execute(
        "UPDATE {webhook_deliveries} SET state = 'scheduled', due_at = %s, finished_at = NULL,"
        " window_start = CASE WHEN %s THEN %s ELSE window_start END WHERE delivery_id = %s",
        (now, new_window, now, delivery_id),
    )


def release_waiting(work: UnitOfWork, tenant_id: str, subscription_id: str, now: datetime) -> None:
    """A resumed subscription's waiting deliveries are due now."""
    work.execute(
        "UPDATE {webhook_deliveries} SET due_at = %s"
        " WHERE tenant_id = %s AND subscription_id = %s AND state = 'scheduled'",
        (now, tenant_id, subscription_id),
    )
