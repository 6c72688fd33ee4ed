"""The calendar links and the bookings owed to their calendars, in the service's
PostgreSQL schema (``calendar_links``, ``calendar_pushes``).

A link is due when ``next_sync_at`` has come; a replica takes due links with
``FOR UPDATE SKIP LOCKED`` and leases them (``leased_until``), so two replicas never
sync one link at once and a replica that dies mid-sync frees its links when the
lease ends. A push row is the state the calendar owes one booking (present with its
slot, or absent) at the booking's highest ``sequence`` seen: a later message
overwrites it, an older one changes nothing, and the push job writes it until it is
done (``pending`` false) — whatever the order and number of deliveries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any
from uuid import UUID

from psycopg import Cursor, sql
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from slotline.availability.domain.calendar_sync import Health


@dataclass(frozen=True)
class LinkRow:
    """A link as the jobs and the API see it (the password still sealed).

    ``sealed_password`` is the credential as linked; ``sealed_refreshed`` the OAuth
    grant as last renewed (it supersedes the linked one; a re-link clears it)."""

    resource_id: UUID
    tenant_id: str
    provider: str
    url: str
    username: str
    sealed_password: bytes
    sealed_refreshed: bytes | None
    sync_token: str | None
    uids_by_href: Mapping[str, str]
    listed_at: datetime | None
    health: Health
    failures: int
    last_error: str | None
    last_synced_at: datetime | None
    next_sync_at: datetime

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> LinkRow:
        return cls(
            resource_id=row["resource_id"],
            tenant_id=row["tenant_id"],
            provider=row["provider"],
            url=row["url"],
            username=row["username"],
            sealed_password=bytes(row["sealed_password"]),
            sealed_refreshed=bytes(row["sealed_refreshed"]) if row["sealed_refreshed"] else None,
            sync_token=row["sync_token"],
            uids_by_href=dict(row["uids_by_href"] or {}),
            listed_at=row["listed_at"],
            health=Health(row["health"]),
            failures=row["failures"],
            last_error=row["last_error"],
            last_synced_at=row["last_synced_at"],
            next_sync_at=row["next_sync_at"],
        )


@dataclass(frozen=True)
class PushRow:
    """What the calendar of ``resource_id`` owes booking ``booking_id``."""

    resource_id: UUID
    booking_id: str
    present: bool
    slot_start: datetime | None
    slot_end: datetime | None
    summary: str
    sequence: int
    failures: int


class LinkStore:
    """Reads and writes the two tables; every method takes the cursor of the caller's
    transaction (a unit of work's, or one of its own)."""

    def __init__(self, schema: str) -> None:
        self.schema = schema
        self._s = sql.Identifier(schema)

    def _q(self, text: str) -> sql.Composed:
        return sql.SQL(text).format(s=self._s)

    # --- links ------------------------------------------------------------------------

    def save_link(
        self,
        cursor: Cursor[DictRow],
        tenant_id: str,
        resource_id: UUID,
        url: str,
        username: str,
        sealed_password: bytes,
        provider: str = "caldav",
    ) -> None:
        """Link a resource (or re-link it): the sync starts over from a full listing."""
        cursor.execute(
            self._q(
                "INSERT INTO {s}.calendar_links (resource_id, tenant_id, url, username,"
                " sealed_password, provider) VALUES (%s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (resource_id) DO UPDATE SET url = excluded.url,"
                " provider = excluded.provider,"
                " username = excluded.username, sealed_password = excluded.sealed_password,"
                " sealed_refreshed = NULL,"
                " sync_token = NULL, listed_at = NULL, health = 'pending', failures = 0,"
                " last_error = NULL, next_sync_at = now(), leased_until = NULL"
            ),
            (resource_id, tenant_id, url, username, sealed_password, provider),
        )

    def get(self, cursor: Cursor[DictRow], tenant_id: str, resource_id: UUID) -> LinkRow | None:
        cursor.execute(
            self._q("SELECT * FROM {s}.calendar_links WHERE resource_id = %s AND tenant_id = %s"),
            (resource_id, tenant_id),
        )
        row = cursor.fetchone()
        return LinkRow.of(row) if row else None

    def keep_refreshed(self, cursor: Cursor[DictRow], link: LinkRow, sealed: bytes) -> None:
        """Keep a renewed OAuth grant for the link's next calls — unless the link was
        changed (re-linked) meanwhile: its new credential stands."""
        cursor.execute(
            self._q(
                "UPDATE {s}.calendar_links SET sealed_refreshed = %s"
                " WHERE resource_id = %s AND url = %s AND sealed_password = %s"
            ),
            (sealed, link.resource_id, link.url, link.sealed_password),
        )

    def holds_link(self, cursor: Cursor[DictRow], resource_id: UUID) -> bool:
        """Whether the resource is still linked; the row stays locked (shared) until the
        caller's transaction ends, so an unlink waits for it."""
        cursor.execute(
            self._q("SELECT 1 FROM {s}.calendar_links WHERE resource_id = %s FOR SHARE"),
            (resource_id,),
        )
        return cursor.fetchone() is not None

    def delete(self, cursor: Cursor[DictRow], tenant_id: str, resource_id: UUID) -> bool:
        cursor.execute(
            self._q("DELETE FROM {s}.calendar_links WHERE resource_id = %s AND tenant_id = %s"),
            (resource_id, tenant_id),
        )
        return cursor.rowcount > 0

    def failing_pushes(self, cursor: Cursor[DictRow], resource_id: UUID) -> int:
        cursor.execute(
            self._q(
                "SELECT count(*) AS n FROM {s}.calendar_pushes"
                " WHERE resource_id = %s AND pending AND failures > 0"
            ),
            (resource_id,),
        )
        row = cursor.fetchone()
        return int(row["n"]) if row else 0

    def claim_due(self, cursor: Cursor[DictRow], limit: int, lease: timedelta) -> list[LinkRow]:
        """Take up to ``limit`` due links for this replica for ``lease``."""
        cursor.execute(
            self._q(
                "UPDATE {s}.calendar_links SET leased_until = now() + %s"
                " WHERE resource_id IN (SELECT resource_id FROM {s}.calendar_links"
                "  WHERE next_sync_at <= now()"
                "  AND (leased_until IS NULL OR leased_until < now())"
                "  ORDER BY next_sync_at LIMIT %s FOR UPDATE SKIP LOCKED)"
                " RETURNING *"
            ),
            (lease, limit),
        )
        return [LinkRow.of(row) for row in cursor.fetchall()]

    def pulled(
        self,
        cursor: Cursor[DictRow],
        link: LinkRow,
        token: str | None,
        uids_by_href: Mapping[str, str],
        listed: bool,
        next_in: timedelta,
    ) -> None:
        """A pull succeeded: keep its token, the link is healthy, due again in ``next_in``.
        Nothing is written if the link was changed (re-linked) meanwhile."""
        cursor.execute(
            self._q(
                "UPDATE {s}.calendar_links SET sync_token = %s, uids_by_href = %s,"
                " listed_at = CASE WHEN %s THEN now() ELSE listed_at END,"
                " health = 'healthy', failures = 0, last_error = NULL,"
                " last_synced_at = now(), next_sync_at = now() + %s, leased_until = NULL"
                " WHERE resource_id = %s AND url = %s AND sealed_password = %s"
            ),
            (
                token,
                Jsonb(dict(uids_by_href)),
                listed,
                next_in,
                link.resource_id,
                link.url,
                link.sealed_password,
            ),
        )

    def pull_failed(
        self, cursor: Cursor[DictRow], link: LinkRow, reason: str, retry_in: timedelta
    ) -> None:
        cursor.execute(
            self._q(
                "UPDATE {s}.calendar_links SET health = 'unhealthy', failures = failures + 1,"
                " last_error = %s, next_sync_at = now() + %s, leased_until = NULL"
                " WHERE resource_id = %s"
            ),
            (reason[:500], retry_in, link.resource_id),
        )

    def health_counts(self, cursor: Cursor[DictRow]) -> dict[str, int]:
        """Links by health, a link with a failing push counted unhealthy."""
        cursor.execute(
            self._q(
                "SELECT CASE WHEN l.health = 'unhealthy' OR EXISTS (SELECT 1 FROM"
                " {s}.calendar_pushes p WHERE p.resource_id = l.resource_id AND p.pending"
                " AND p.failures > 0) THEN 'unhealthy' ELSE l.health END AS health,"
                " count(*) AS n FROM {s}.calendar_links l GROUP BY 1"
            )
        )
        return {row["health"]: int(row["n"]) for row in cursor.fetchall()}

    def unhealthy(self, cursor: Cursor[DictRow], limit: int = 10) -> list[dict[str, Any]]:
        cursor.execute(
            self._q(
                "SELECT l.resource_id, l.tenant_id, l.failures, l.last_error,"
                " (SELECT count(*) FROM {s}.calendar_pushes p WHERE p.resource_id ="
                " l.resource_id AND p.pending AND p.failures > 0) AS failing_pushes"
                " FROM {s}.calendar_links l WHERE l.health = 'unhealthy' OR EXISTS (SELECT 1"
                " FROM {s}.calendar_pushes p WHERE p.resource_id = l.resource_id AND p.pending"
                " AND p.failures > 0) ORDER BY l.resource_id LIMIT %s"
            ),
            (limit,),
        )
        return list(cursor.fetchall())

    # --- pushes -----------------------------------------------------------------------

    def owe(
        self,
        cursor: Cursor[DictRow],
        tenant_id: str,
        booking_id: str,
        resource_ids: Iterable[str],
        slot: tuple[datetime, datetime],
        summary: str | None,
        sequence: int,
    ) -> None:
        """The calendar of each of ``resource_ids`` that has a link owes the booking at
        ``slot``; every other calendar holding it owes its removal — each unless a later
        state is known. One statement: it runs for every confirmed or moved booking, most
        of them on resources with no link (two statements were ~6 % of the api process's
        CPU at 50 bookings/s, py-spy). ``summary`` ``None`` keeps the one owed before."""
        cursor.execute(
            self._owe,
            {
                "tenant": tenant_id,
                "resources": list(resource_ids),
                "booking": booking_id,
                "start": slot[0],
                "end": slot[1],
                "summary": summary,
                "sequence": sequence,
            },
            prepare=True,
        )

    @cached_property
    def _owe(self) -> bytes:
        """Rendered once (composing SQL per call is not free); the two changes touch
        disjoint rows, the linked calendars' and the others'."""
        return self._q(
            "WITH linked AS (SELECT resource_id FROM {s}.calendar_links"
            "  WHERE tenant_id = %(tenant)s AND resource_id::text = ANY(%(resources)s)),"
            " present AS (INSERT INTO {s}.calendar_pushes AS p (resource_id, booking_id,"
            "  present, slot_start, slot_end, summary, sequence)"
            "  SELECT resource_id, %(booking)s, true, %(start)s, %(end)s,"
            "  coalesce(%(summary)s, ''), %(sequence)s FROM linked"
            "  ON CONFLICT (resource_id, booking_id) DO UPDATE SET present = true,"
            "  slot_start = excluded.slot_start, slot_end = excluded.slot_end,"
            "  summary = coalesce(%(summary)s, p.summary), sequence = excluded.sequence,"
            "  pending = true, failures = 0, last_error = NULL, next_attempt_at = now()"
            "  WHERE p.sequence < excluded.sequence)"
            " UPDATE {s}.calendar_pushes SET present = false, sequence = %(sequence)s,"
            " pending = true, failures = 0, last_error = NULL, next_attempt_at = now()"
            " WHERE booking_id = %(booking)s AND sequence < %(sequence)s"
            " AND resource_id NOT IN (SELECT resource_id FROM linked)"
        ).as_bytes(None)

    def owe_absent(
        self,
        cursor: Cursor[DictRow],
        booking_id: str,
        sequence: int,
    ) -> None:
        """Every calendar holding the booking owes its removal (a cancelled booking)."""
        cursor.execute(
            self._q(
                "UPDATE {s}.calendar_pushes SET present = false, sequence = %s, pending = true,"
                " failures = 0, last_error = NULL, next_attempt_at = now()"
                " WHERE booking_id = %s AND sequence < %s"
            ),
            (sequence, booking_id, sequence),
        )

    def claim_pushes(
        self, cursor: Cursor[DictRow], limit: int, lease: timedelta
    ) -> list[tuple[PushRow, LinkRow]]:
        cursor.execute(
            self._q(
                "WITH due AS (SELECT resource_id, booking_id FROM {s}.calendar_pushes"
                "  WHERE pending AND next_attempt_at <= now()"
                "  AND (leased_until IS NULL OR leased_until < now())"
                "  ORDER BY next_attempt_at LIMIT %s FOR UPDATE SKIP LOCKED),"
                " taken AS (UPDATE {s}.calendar_pushes p SET leased_until = now() + %s"
                "  FROM due WHERE p.resource_id = due.resource_id"
                "  AND p.booking_id = due.booking_id RETURNING p.*)"
                " SELECT taken.resource_id, taken.booking_id, taken.present, taken.slot_start,"
                " taken.slot_end, taken.summary, taken.sequence,"
                " taken.failures AS push_failures, l.*"
                " FROM taken JOIN {s}.calendar_links l USING (resource_id)"
            ),
            (limit, lease),
        )
        return [
            (
                PushRow(
                    resource_id=row["resource_id"],
                    booking_id=row["booking_id"],
                    present=row["present"],
                    slot_start=row["slot_start"],
                    slot_end=row["slot_end"],
                    summary=row["summary"],
                    sequence=row["sequence"],
                    failures=row["push_failures"],
                ),
                LinkRow.of(row),
            )
            for row in cursor.fetchall()
        ]

    def pushed(self, cursor: Cursor[DictRow], push: PushRow) -> None:
        """Written: done, unless a later state arrived meanwhile (then it is due again)."""
        cursor.execute(
            self._q(
                "UPDATE {s}.calendar_pushes SET pending = (sequence <> %s),"
                " failures = 0, last_error = NULL, leased_until = NULL"
                " WHERE resource_id = %s AND booking_id = %s"
            ),
            (push.sequence, push.resource_id, push.booking_id),
        )

    def push_failed(
        self, cursor: Cursor[DictRow], push: PushRow, reason: str, retry_in: timedelta
    ) -> None:
        cursor.execute(
            self._q(
                "UPDATE {s}.calendar_pushes SET failures = failures + 1, last_error = %s,"
                " next_attempt_at = CASE WHEN sequence = %s THEN now() + %s ELSE now() END,"
                " leased_until = NULL WHERE resource_id = %s AND booking_id = %s"
            ),
            (reason[:500], push.sequence, retry_in, push.resource_id, push.booking_id),
        )
