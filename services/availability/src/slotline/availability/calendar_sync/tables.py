"""The calendar links' tables, in the service's PostgreSQL schema: ``calendar_links``
(one per linked resource) and ``calendar_pushes`` (what each calendar is owed); made
as the store opens (:func:`make_tables`), columns added since with ``ADD COLUMN IF NOT
EXISTS`` so an existing database catches up."""

from __future__ import annotations

from typing import Any

from psycopg import Cursor, sql

TABLES = """
CREATE TABLE IF NOT EXISTS {schema}.calendar_links (
    resource_id uuid PRIMARY KEY,
    tenant_id text NOT NULL,
    url text NOT NULL,
    username text NOT NULL,
    sealed_password bytea NOT NULL,
    sync_token text,
    uids_by_href jsonb NOT NULL DEFAULT '{{}}',
    listed_at timestamptz,
    health text NOT NULL DEFAULT 'pending',
    failures integer NOT NULL DEFAULT 0,
    last_error text,
    last_synced_at timestamptz,
    next_sync_at timestamptz NOT NULL DEFAULT now(),
    leased_until timestamptz
);
CREATE TABLE IF NOT EXISTS {schema}.calendar_pushes (
    resource_id uuid NOT NULL
        REFERENCES {schema}.calendar_links (resource_id) ON DELETE CASCADE,
    booking_id text NOT NULL,
    present boolean NOT NULL,
    slot_start timestamptz,
    slot_end timestamptz,
    summary text NOT NULL DEFAULT '',
    sequence bigint NOT NULL,
    pending boolean NOT NULL DEFAULT true,
    failures integer NOT NULL DEFAULT 0,
    last_error text,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    leased_until timestamptz,
    PRIMARY KEY (resource_id, booking_id)
);
ALTER TABLE {schema}.calendar_links
    ADD COLUMN IF NOT EXISTS provider text NOT NULL DEFAULT 'caldav';
ALTER TABLE {schema}.calendar_links ADD COLUMN IF NOT EXISTS sealed_refreshed bytea;
CREATE INDEX IF NOT EXISTS calendar_pushes_due
    ON {schema}.calendar_pushes (next_attempt_at) WHERE pending;
CREATE INDEX IF NOT EXISTS calendar_pushes_booking ON {schema}.calendar_pushes (booking_id);
"""


def make_tables(cursor: Cursor[Any], schema: str) -> None:
    cursor.execute(sql.SQL(TABLES).format(schema=sql.Identifier(schema)))
