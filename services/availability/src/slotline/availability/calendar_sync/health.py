"""The sync's tables made as the store opens, and its line in ``/readyz``."""

from __future__ import annotations

from typing import cast

import anyio
from eventsourcing.postgres import PostgresProcessRecorder

from slotline.availability.calendar_sync.store import LinkStore
from slotline.availability.calendar_sync.tables import make_tables
from slotline.events.store import ServiceApplication


def open_tables(app: ServiceApplication) -> None:
    """Make the links' tables if missing (the wiring calls it as the store opens)."""
    recorder = app.process_recorder
    if isinstance(recorder, PostgresProcessRecorder):
        with recorder.datastore.transaction(commit=True) as cursor:
            make_tables(cursor, app.schema)


async def calendar_health(app: ServiceApplication) -> tuple[bool, str]:
    """Always ready (an outside calendar failing must not take the service out of
    rotation), but the detail names the unhealthy links and why."""
    return await anyio.to_thread.run_sync(_health, app)


def _health(app: ServiceApplication) -> tuple[bool, str]:
    store = LinkStore(app.schema)
    recorder = cast(PostgresProcessRecorder, app.process_recorder)
    with recorder.datastore.transaction(commit=False) as cursor:
        counts = store.health_counts(cursor)
        unhealthy = store.unhealthy(cursor, limit=5)
    if not counts:
        return True, "no calendar links"
    summary = ", ".join(f"{n} {health}" for health, n in sorted(counts.items()))
    failing = "; ".join(
        f"resource {row['resource_id']} ({row['failures']} failed pulls,"
        f" {row['failing_pushes']} failing pushes): {row['last_error'] or 'push failing'}"
        for row in unhealthy
    )
    return True, f"calendar links: {summary}" + (f" — unhealthy: {failing}" if failing else "")
