"""DDL of the notifier's own tables (beside the event store, in the service's schema).

The wiring makes them as the store opens (:func:`open_tables`), not the application:
the use cases only read and write rows."""

from __future__ import annotations

from psycopg import sql

from slotline.events.store import ServiceApplication
from slotline.notifier.persistence.unit_of_work import Cursor, unit_of_work

_TABLES = """
CREATE TABLE IF NOT EXISTS {s}.bookings (
    tenant_id text NOT NULL,
    booking_id text NOT NULL,
    card jsonb NOT NULL,
    PRIMARY KEY (tenant_id, booking_id)
);
CREATE INDEX IF NOT EXISTS bookings_resources ON {s}.bookings USING gin ((card -> 'resource_ids'));
CREATE TABLE IF NOT EXISTS {s}.messages (
    tenant_id text NOT NULL,
    key text NOT NULL,
    notification_id text NOT NULL,
    body jsonb NOT NULL,
    due_at timestamptz NOT NULL,
    state text NOT NULL,
    booking_id text,
    reminder_kind text,
    claimed_at timestamptz,
    finished_at timestamptz,
    outcome text,
    PRIMARY KEY (tenant_id, key)
);
DROP INDEX IF EXISTS {s}.messages_due;
CREATE INDEX IF NOT EXISTS messages_due_prompt ON {s}.messages (due_at)
    WHERE state = 'scheduled' AND reminder_kind IS NULL;
CREATE INDEX IF NOT EXISTS messages_due_bulk ON {s}.messages (due_at)
    WHERE state = 'scheduled' AND reminder_kind IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_sending ON {s}.messages (claimed_at) WHERE state = 'sending';
CREATE INDEX IF NOT EXISTS messages_booking ON {s}.messages (tenant_id, booking_id)
    WHERE state = 'scheduled';
CREATE TABLE IF NOT EXISTS {s}.deliveries (
    provider_reference text PRIMARY KEY,
    tenant_id text NOT NULL,
    message_key text NOT NULL,
    notification_id text NOT NULL,
    channel text NOT NULL,
    state text NOT NULL,
    at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS {s}.whatsapp_windows (
    tenant_id text NOT NULL,
    phone text NOT NULL,
    last_inbound_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, phone)
);
CREATE TABLE IF NOT EXISTS {s}.inbound_messages (
    tenant_id text NOT NULL,
    message_sid text NOT NULL,
    PRIMARY KEY (tenant_id, message_sid)
);
CREATE TABLE IF NOT EXISTS {s}.tenant_preferences (
    tenant_id text PRIMARY KEY,
    preferences jsonb NOT NULL
);
"""


def create_tables(cursor: Cursor, schema: str) -> None:
    for statement in _TABLES.split(";"):
        if statement.strip():
            cursor.execute(sql.SQL(statement).format(s=sql.Identifier(schema)))


def open_tables(app: ServiceApplication) -> None:
    """Make ``app``'s tables if missing (the runtime opens stores one process at a time)."""
    with unit_of_work(app) as work:
        create_tables(work.cursor, work.schema)
