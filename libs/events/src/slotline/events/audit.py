"""The audit trail: who (a user id, not a role) read or changed which item, when and from
where — append-only, queryable by owners, published on ``audit.events.v1``, with an
alert when one actor reads many distinct items of a kind in a short time.

Each access is an ``AuditRecord`` aggregate of one event in the service's own store (so
the relay publishes it like any other fact, and nothing ever rewrites it), plus a row in
``<schema>.audit_log`` for owners' queries, written in the same unit of work; a trigger
refuses UPDATE and DELETE on that table. A route declares what it exposes with the
:func:`audited` dependency; the record is written before the route answers (an attempt
on an unknown item is an access worth keeping too).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import anyio
from eventsourcing.domain import Aggregate, event
from fastapi import APIRouter, Depends, Query, Request
from psycopg import Cursor, sql
from psycopg.rows import DictRow

from slotline.events.auth import Principal, Role, authenticate, require_roles
from slotline.events.clock import Instant
from slotline.events.contract import audit as contract
from slotline.events.envelope import Message
from slotline.events.publishing import Publisher
from slotline.events.side_table import creating
from slotline.events.unit_of_work import UnitOfWork
from slotline.events.wire_sealing import pseudonym

ALERT_DISTINCT_ITEMS = 50
ALERT_WINDOW = timedelta(minutes=5)
# The record's fields an owner's query reads, kept in <schema>.audit_log beside record_id.
ROW_FIELDS = (
    "tenant_id",
    "at",
    "actor",
    "roles",
    "access",
    "item_kind",
    "item_id",
    "action",
    "source_address",
)


class AuditRecord(Aggregate):
    """One access; never changed after it is recorded."""

    class Recorded(Aggregate.Created):
        tenant_id: str
        service: str
        actor: str
        roles: list[str]
        access: str
        item_kind: str
        item_id: str
        action: str
        source_address: str | None
        at: datetime

    @event(Recorded)
    def __init__(
        self,
        tenant_id: str,
        service: str,
        actor: str,
        roles: list[str],
        access: str,
        item_kind: str,
        item_id: str,
        action: str,
        source_address: str | None,
        at: datetime,
    ) -> None:
        self.tenant_id, self.service, self.actor, self.roles = tenant_id, service, actor, roles
        self.access, self.item_kind, self.item_id, self.action = access, item_kind, item_id, action
        self.source_address, self.at = source_address, at


class UnusualAccess(Aggregate):
    """An alert: one actor read many distinct items of one kind in a short time."""

    class Noticed(Aggregate.Created):
        tenant_id: str
        service: str
        actor: str
        item_kind: str
        distinct_items: int
        window_seconds: int
        at: datetime

    @event(Noticed)
    def __init__(
        self,
        tenant_id: str,
        service: str,
        actor: str,
        item_kind: str,
        distinct_items: int,
        window_seconds: int,
        at: datetime,
    ) -> None:
        self.tenant_id, self.service, self.actor, self.item_kind = (
            tenant_id,
            service,
            actor,
            item_kind,
        )
        self.distinct_items, self.window_seconds, self.at = distinct_items, window_seconds, at


@dataclass(frozen=True)
class Access:
    """What a route tells the trail about one access."""

    tenant_id: str
    actor: str
    roles: tuple[str, ...]
    access: contract.AccessKind
    item_kind: str
    item_id: str
    action: str
    source_address: str | None


def publish_audit(publisher: Publisher) -> None:
    """Add the trail's records and alerts to a service's publishing table."""
    publisher.follow(AuditRecord, UnusualAccess)

    @publisher.on(AuditRecord.Recorded)
    def recorded(record: AuditRecord, _: Any) -> Message:
        return contract.AccessAudited(
            **_who_when(record),
            roles=record.roles,
            access=contract.AccessKind(record.access),
            item_kind=record.item_kind,
            item_id=record.item_id,
            action=record.action,
            source_address=record.source_address,
        )

    @publisher.on(UnusualAccess.Noticed)
    def noticed(alert: UnusualAccess, _: Any) -> Message:
        return contract.UnusualAccessDetected(
            **_who_when(alert),
            item_kind=alert.item_kind,
            distinct_items=alert.distinct_items,
            window_seconds=alert.window_seconds,
        )


def _who_when(fact: AuditRecord | UnusualAccess) -> dict[str, Any]:
    """What every audit event says: whose tenant, which service, which actor, when."""
    return {
        "tenant_id": fact.tenant_id,
        "aggregate_id": str(fact.id),
        "service": fact.service,
        "actor": fact.actor,
        "at": fact.at,
    }


class AuditTrail:
    """Records accesses in units of work and answers owners' queries."""

    def __init__(
        self,
        service: str,
        schema: str,
        *,
        alert_distinct_items: int = ALERT_DISTINCT_ITEMS,
        alert_window: timedelta = ALERT_WINDOW,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.service = service
        self.schema = schema
        self.table = sql.Identifier(schema, "audit_log")
        self.alert_distinct_items = alert_distinct_items
        self.alert_window = alert_window
        self.clock = clock
        self._ready = False

    def record(self, work: UnitOfWork, access: Access) -> None:
        """One access: its record, its row, and an alert when the actor crossed the line."""
        now = self.clock()
        record = AuditRecord(
            access.tenant_id,
            self.service,
            access.actor,
            list(access.roles),
            access.access.value,
            access.item_kind,
            access.item_id,
            access.action,
            access.source_address,
            now,
        )
        work.add(record)
        cursor = work.cursor
        self._ensure_table(cursor)
        cursor.execute(
            sql.SQL("INSERT INTO {} (record_id, {}) VALUES (%s, {})").format(
                self.table,
                sql.SQL(", ").join(map(sql.Identifier, ROW_FIELDS)),
                sql.SQL(", ").join(sql.Placeholder() * len(ROW_FIELDS)),
            ),
            (record.id, *(getattr(record, name) for name in ROW_FIELDS)),
        )
        if access.access is contract.AccessKind.READ:
            self._maybe_alert(work, cursor, access, now)

    def _maybe_alert(
        self, work: UnitOfWork, cursor: Cursor[DictRow], access: Access, now: datetime
    ) -> None:
        since = now - self.alert_window
        # Counted up to one past the line only: the alert needs no more, and the count
        # then costs ~0.3 ms however many reads the actor made (a full count grew to
        # 2.6 ms at 3,000 reads in the window, inside the writer: measured 2026-12-05).
        cursor.execute(
            sql.SQL(
                "SELECT count(*) AS n FROM (SELECT DISTINCT item_id FROM {} WHERE"
                " tenant_id = %s AND actor = %s AND item_kind = %s AND access = 'read'"
                " AND at > %s LIMIT %s) AS seen"
            ).format(self.table),
            (
                access.tenant_id,
                access.actor,
                access.item_kind,
                since,
                self.alert_distinct_items + 2,
            ),
        )
        row = cursor.fetchone()
        distinct = int(row["n"]) if row else 0
        if distinct != self.alert_distinct_items + 1:
            return  # below the line, or the alert for this run was raised already
        work.add(
            UnusualAccess(
                access.tenant_id,
                self.service,
                access.actor,
                access.item_kind,
                distinct,
                int(self.alert_window.total_seconds()),
                now,
            )
        )

    def query(
        self,
        cursor: Cursor[DictRow],
        tenant_id: str,
        *,
        actor: str | None = None,
        item_kind: str | None = None,
        item_id: str | None = None,
        since: datetime | None = None,
        limit: int = 200,
    ) -> list[dict[str, Any]]:
        """The tenant's records, newest first, filtered as asked (none before the first:
        a read-only transaction cannot create the table)."""
        if not self._ready and not self._exists(cursor):
            return []
        where: list[sql.Composable] = [sql.SQL("tenant_id = %s")]
        params: list[Any] = [tenant_id]
        for column, value in (("actor", actor), ("item_kind", item_kind), ("item_id", item_id)):
            if value is not None:
                where.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
                params.append(value)
        if since is not None:
            where.append(sql.SQL("at >= %s"))
            params.append(since)
        cursor.execute(
            sql.SQL("SELECT * FROM {} WHERE {} ORDER BY at DESC, seq DESC LIMIT %s").format(
                self.table, sql.SQL(" AND ").join(where)
            ),
            (*params, limit),
        )
        return [dict(row) for row in cursor.fetchall()]

    def _exists(self, cursor: Cursor[DictRow]) -> bool:
        cursor.execute(
            "SELECT 1 FROM pg_tables WHERE schemaname = %s AND tablename = 'audit_log'",
            (self.schema,),
        )
        return cursor.fetchone() is not None

    def _ensure_table(self, cursor: Cursor[DictRow]) -> None:
        if self._ready:
            return
        schema = self.schema
        guard = sql.Identifier(schema, "audit_log_append_only")
        creating(cursor, f"{schema}.audit_log")
        cursor.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {table} (seq bigserial PRIMARY KEY,"
                " record_id uuid NOT NULL UNIQUE, tenant_id text NOT NULL,"
                " at timestamptz NOT NULL, actor text NOT NULL, roles text[] NOT NULL,"
                " access text NOT NULL, item_kind text NOT NULL, item_id text NOT NULL,"
                " action text NOT NULL, source_address text);"
                " CREATE INDEX IF NOT EXISTS {index} ON {table} (tenant_id, actor, at);"
                " CREATE INDEX IF NOT EXISTS {items} ON {table}"
                " (tenant_id, actor, item_kind, item_id, at);"
                " CREATE OR REPLACE FUNCTION {guard}() RETURNS trigger LANGUAGE plpgsql AS"
                " $$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;"
                " DROP TRIGGER IF EXISTS audit_log_append_only ON {table};"
                " CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON {table}"
                " FOR EACH ROW EXECUTE FUNCTION {guard}();"
            ).format(
                table=self.table,
                index=sql.Identifier(f"{schema}_audit_log_actor"),
                items=sql.Identifier(f"{schema}_audit_log_items"),
                guard=guard,
            )
        )
        self._ready = True


def fingerprint(text: str) -> str:
    """An item id for a search (a phone number, a name): a digest keyed with a key
    derived from the platform's privacy key, never the text, and not a hash anyone could
    recompute from a guessed number."""
    return "search:" + pseudonym("audit-searches", text)[:16]


Recorder = Callable[[Request, Principal], Awaitable[None]]


def access_of(
    request: Request,
    principal: Principal,
    access: contract.AccessKind,
    item_kind: str,
    item_id: str,
    action: str,
) -> Access:
    """What the trail keeps of one access by the request's signed-in caller."""
    return Access(
        tenant_id=principal.tenant_id,
        actor=principal.subject,
        roles=tuple(sorted(principal.roles)),
        access=access,
        item_kind=item_kind,
        item_id=item_id,
        action=action,
        source_address=request.client.host if request.client else None,
    )


def audit_trail(request: Request) -> AuditTrail:
    """The service's trail (open once the store is)."""
    trail: AuditTrail | None = getattr(request.app.state.runtime, "audit", None)
    if trail is None:
        raise RuntimeError("the service's audit trail is not open yet")
    return trail


def audited(
    item_kind: str,
    item: str | Callable[[Request], str] | Callable[[Request], tuple[str, str]],
    access: contract.AccessKind | None = contract.AccessKind.READ,
) -> Callable[..., Awaitable[Principal]]:
    """Route dependency: record the caller's access to the item named by the path
    parameter ``item`` (or computed from the request: an id, or a kind and an id), then
    hand on the principal. ``access`` None: a GET or HEAD reads, anything else changes."""

    async def dependency(
        request: Request, principal: Annotated[Principal, Depends(authenticate)]
    ) -> Principal:
        runtime = request.app.state.runtime
        trail: AuditTrail | None = getattr(runtime, "audit", None)
        if trail is None or runtime.writer is None:
            raise RuntimeError("the service's audit trail is not open yet")
        kind = item_kind
        if isinstance(item, str):
            item_id = str(request.path_params.get(item, ""))
        elif isinstance(found := item(request), tuple):
            kind, item_id = found
        else:
            item_id = found
        reads = request.method in ("GET", "HEAD")
        kept = access or (contract.AccessKind.READ if reads else contract.AccessKind.CHANGE)
        route = request.scope.get("route")
        action = f"{request.method} {getattr(route, 'path', request.url.path)}"
        entry = access_of(request, principal, kept, kind, item_id or "-", action)
        await runtime.writer.run(lambda work: trail.record(work, entry))
        return principal

    return dependency


def audited_route(default_kind: str, **kinds: str) -> Callable[..., Awaitable[Principal]]:
    """Router dependency for a router of staff routes: the item is the first path
    parameter named in ``kinds`` (``service_id="service"``), else ``default_kind`` as a
    whole ("all"); a GET reads, any other method changes."""

    def item_of(request: Request) -> tuple[str, str]:
        for parameter, kind in kinds.items():
            if (found := request.path_params.get(parameter)) is not None:
                return kind, str(found)
        return default_kind, "all"

    return audited(default_kind, item_of, access=None)


def audit_router() -> APIRouter:
    """``GET /v1/audit``: the tenant's audit trail, for its owners."""
    router = APIRouter(tags=["audit"])

    @router.get("/v1/audit")
    async def audit_trail(
        request: Request,
        owner: Annotated[Principal, Depends(require_roles(Role.OWNER))],
        actor: Annotated[str | None, Query(max_length=128)] = None,
        item_kind: Annotated[str | None, Query(max_length=64)] = None,
        item_id: Annotated[str | None, Query(max_length=128)] = None,
        since: Instant | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[dict[str, Any]]:
        """Who read or changed what in this service, newest first."""
        runtime = request.app.state.runtime
        trail: AuditTrail = runtime.audit

        def query() -> list[dict[str, Any]]:
            with runtime.application.reading() as cursor:
                return trail.query(
                    cursor,
                    owner.tenant_id,
                    actor=actor,
                    item_kind=item_kind,
                    item_id=item_id,
                    since=since,
                    limit=limit,
                )

        rows = await anyio.to_thread.run_sync(query)
        return [{k: (str(v) if k == "record_id" else v) for k, v in row.items()} for row in rows]

    return router
