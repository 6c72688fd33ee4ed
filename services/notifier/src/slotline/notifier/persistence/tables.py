"""DDL of the notifier's own tables (beside the event store, in the service's schema):
the message queue and its rows, calendar feeds' versions, and the outbound webhooks'
subscriptions, deliveries (the durable retry queue) and attempts (the delivery log).

The wiring makes them as the store opens (:func:`open_tables`), not the application:
the use cases only read and write rows."""

from __future__ import annotations

from psycopg import sql

from slotline.events.store import ServiceApplication
from slotline.events.wire_sealing import pseudonym
from slotline.notifier.persistence.unit_of_work import Cursor

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
CREATE TABLE IF NOT EXISTS {s}.feed_versions (
    tenant_id text NOT NULL,
    resource_id text NOT NULL,
    version integer NOT NULL,
    rotated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, resource_id)
);
CREATE TABLE IF NOT EXISTS {s}.webhook_subscriptions (
    tenant_id text NOT NULL,
    subscription_id text NOT NULL,
    url text NOT NULL,
    event_types text[] NOT NULL,
    description text NOT NULL DEFAULT '',
    notify_email text,
    keys jsonb NOT NULL,
    state text NOT NULL,
    paused_reason text,
    failures integer NOT NULL DEFAULT 0,
    failing_since timestamptz,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, subscription_id)
);
CREATE TABLE IF NOT EXISTS {s}.webhook_deliveries (
    delivery_id text PRIMARY KEY,
    tenant_id text NOT NULL,
    subscription_id text NOT NULL,
    event_id text NOT NULL,
    event_type text NOT NULL,
    body text NOT NULL,
    created_at timestamptz NOT NULL,
    window_start timestamptz NOT NULL,
    due_at timestamptz NOT NULL,
    state text NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    claimed_at timestamptz,
    finished_at timestamptz,
    last_status integer,
    last_error text
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON {s}.webhook_deliveries (due_at)
    WHERE state = 'scheduled';
CREATE INDEX IF NOT EXISTS webhook_deliveries_sending ON {s}.webhook_deliveries (claimed_at)
    WHERE state = 'sending';
CREATE INDEX IF NOT EXISTS webhook_deliveries_of ON {s}.webhook_deliveries
    (tenant_id, subscription_id, created_at DESC);
CREATE INDEX IF NOT EXISTS webhook_deliveries_finished ON {s}.webhook_deliveries (finished_at)
    WHERE finished_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS {s}.webhook_attempts (
    delivery_id text NOT NULL,
    attempt integer NOT NULL,
    at timestamptz NOT NULL,
    status integer,
    latency_ms double precision,
    response_excerpt text,
    error text,
    PRIMARY KEY (delivery_id, attempt)
);
"""


def create_tables(cursor: Cursor, schema: str) -> None:
    for statement in _TABLES.split(";"):
        if statement.strip():
            cursor.execute(sql.SQL(statement).format(s=sql.Identifier(schema)))


def open_tables(app: ServiceApplication) -> None:
    """Make ``app``'s tables if missing (the runtime opens stores one process at a time)."""
    with app.unit_of_work() as work:
        create_tables(work.cursor, app.schema)
        _pseudonymise_windows(work.cursor, app.schema)


def _pseudonymise_windows(cursor: Cursor, schema: str) -> None:
    """WhatsApp windows kept under the number itself, before they were kept under its
    pseudonym, are moved under it (a pseudonym is hex, a number starts with ``+``)."""
    table = sql.Identifier(schema, "whatsapp_windows")
    cursor.execute(
        sql.SQL(
            "DELETE FROM {} WHERE phone LIKE '+%%' RETURNING tenant_id, phone, last_inbound_at"
        ).format(table)
    )
    moved = [
        (row["tenant_id"], pseudonym(row["tenant_id"], row["phone"]), row["last_inbound_at"])
        for row in cursor.fetchall()
    ]
    if moved:
        cursor.executemany(
            sql.SQL(
                "INSERT INTO {t} (tenant_id, phone, last_inbound_at) VALUES (%s, %s, %s)"
                " ON CONFLICT (tenant_id, phone) DO UPDATE SET last_inbound_at ="
                " greatest({t}.last_inbound_at, EXCLUDED.last_inbound_at)"
            ).format(t=table),
            moved,
        )
