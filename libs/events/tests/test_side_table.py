"""A side table made at first use: concurrent first uses (a fresh service's first
requests, or two replicas) all find it made, none fails."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from slotline.events.side_table import SideTable
from slotline.events.store import ensure_schema, postgres_env
from slotline.events.testing.tally import TallyApplication

pytestmark = pytest.mark.integration

THREADS = 8


def test_concurrent_first_uses_of_a_side_table_all_succeed(database_url: str) -> None:
    ensure_schema(database_url, "side_tables")
    app = TallyApplication(env=postgres_env(database_url, "side_tables", pool_size=THREADS))
    datastore = app.sql_recorder.datastore
    for round_ in range(5):
        name = f"directory_{round_}"
        start = threading.Barrier(THREADS)

        def first_use(name: str = name, start: threading.Barrier = start) -> int:
            table = SideTable(datastore, "side_tables", name, "k text PRIMARY KEY")
            start.wait()  # every thread creates at the same moment
            return table.run(
                lambda cursor, _: (
                    cursor.execute(
                        f"INSERT INTO side_tables.{name} VALUES (gen_random_uuid()::text)"
                    ).rowcount
                )
            )

        with ThreadPoolExecutor(THREADS) as pool:
            inserted = list(pool.map(lambda _: first_use(), range(THREADS)))
        assert inserted == [1] * THREADS
