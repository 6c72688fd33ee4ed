"""What a service's event store holds, as the database has it: for tests that grep the
raw tables for personal data."""

from __future__ import annotations

import psycopg
from psycopg import sql

from slotline.events.store import ServiceApplication


def stored_states(database_url: str, app: ServiceApplication) -> bytes:
    """Every stored event's state of ``app``, joined."""
    table = sql.Identifier(app.schema, f"{app.name.lower()}_events")
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(sql.SQL("SELECT state FROM {}").format(table)).fetchall()
    return b"".join(bytes(row[0]) for row in rows)
