"""What a service's event store holds, as the database has it: for tests that grep the
raw tables for personal data."""

from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

import psycopg
from eventsourcing.persistence import Notification
from psycopg import sql
from psycopg.rows import dict_row

from slotline.events.store import ServiceApplication


def stored_states(database_url: str, app: ServiceApplication) -> bytes:
    """Every stored event's state of ``app``, joined."""
    table = sql.Identifier(app.schema, f"{app.name.lower()}_events")
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(sql.SQL("SELECT state FROM {}").format(table)).fetchall()
    return b"".join(bytes(row[0]) for row in rows)


def stored_notifications(
    database_url: str, app: ServiceApplication, originator_ids: Collection[UUID]
) -> list[Notification]:
    """The stored events of these aggregates, in log order, as a projection is given
    them: a batch to replay by hand."""
    table = sql.Identifier(app.schema, f"{app.name.lower()}_events")
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        rows = conn.execute(
            sql.SQL(
                "SELECT notification_id, originator_id, originator_version, topic, state"
                " FROM {} WHERE originator_id = ANY(%s) ORDER BY notification_id"
            ).format(table),
            (list(originator_ids),),
        ).fetchall()
    return [
        Notification(
            id=row["notification_id"],
            originator_id=row["originator_id"],
            originator_version=row["originator_version"],
            topic=row["topic"],
            state=bytes(row["state"]),
        )
        for row in rows
    ]


def stored_tables(database_url: str, schema: str) -> dict[str, bytes]:
    """Every row of every table in ``schema``, as the database prints it, by table: what
    a copy of the database (a dump, a backup) would show."""
    with psycopg.connect(database_url) as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
            ).fetchall()
        ]
        found: dict[str, bytes] = {}
        for name in names:
            rows = conn.execute(
                sql.SQL("SELECT t::text FROM {} AS t").format(sql.Identifier(schema, name))
            ).fetchall()
            found[name] = "\n".join(row[0] for row in rows).encode()
    return found
