"""The event store's batch read: several aggregates in one query, never stale."""

from __future__ import annotations

import uuid

import pytest
from eventsourcing.persistence import IntegrityError, Tracking
from psycopg.pq import TransactionStatus

from slotline.events.store import ensure_schema, postgres_env
from slotline.events.testing.tally import Tally, TallyApplication

pytestmark = pytest.mark.integration


def test_get_many_fast_forwards_cached_copies_and_skips_missing_ids(database_url: str) -> None:
    ensure_schema(database_url, "tally")
    env = postgres_env(database_url, "tally")
    reader, writer = TallyApplication(env=env), TallyApplication(env=env)
    tallies = [Tally() for _ in range(3)]
    for tally in tallies:
        tally.count(1)
    reader.save(*tallies)  # the reader's cache now holds version 2 of each
    for tally_id in (t.id for t in tallies[:2]):
        mine: Tally = writer.repository.get(tally_id)
        mine.count(10)
        writer.save(mine)  # another replica moves two of them on

    missing = uuid.uuid4()
    found = reader.get_many([*(t.id for t in tallies), missing])

    assert missing not in found
    assert [found[t.id].version for t in tallies] == [3, 3, 2]
    assert [found[t.id].total for t in tallies] == [11, 11, 1]
    found[tallies[2].id].count(5)  # a copy: the cache is not changed by its reader
    assert reader.get_many([tallies[2].id])[tallies[2].id].total == 1


def test_a_read_keeps_the_connections_prepared_statements(database_url: str) -> None:
    """psycopg forgets a connection's prepared statements on ROLLBACK, so a read that
    rolled back made the next statements be planned again (DEALLOCATE ALL, then PREPARE):
    reads end with COMMIT."""
    ensure_schema(database_url, "tally_reads")
    env = {**postgres_env(database_url, "tally_reads", pool_size=1), "POSTGRES_MAX_OVERFLOW": "0"}
    app = TallyApplication(env=env)  # kept: an application let go closes its pool
    datastore = app.sql_recorder.datastore
    with datastore.transaction(commit=False) as cursor:
        cursor.execute("SELECT pg_backend_pid() AS pid, 'kept' AS word", prepare=True)
        first = cursor.fetchone()
    with datastore.transaction(commit=False) as cursor:
        cursor.execute(
            "SELECT pg_backend_pid() AS pid, count(*) AS n FROM pg_prepared_statements"
            " WHERE statement LIKE '%''kept''%'"
        )
        second = cursor.fetchone()
    assert first is not None
    assert second is not None
    assert first["pid"] == second["pid"]  # one pooled connection
    assert second["n"] == 1


def test_a_statement_alone_runs_outside_a_transaction_block(database_url: str) -> None:
    """A lone read or a relay's position is one statement: no BEGIN and COMMIT around it
    (two round trips saved), and it still commits and refuses a position twice."""
    ensure_schema(database_url, "tally_alone")
    app = TallyApplication(env=postgres_env(database_url, "tally_alone"))
    recorder = app.sql_recorder
    with recorder.alone() as cursor:
        cursor.execute("SELECT now() AS at, clock_timestamp() AS clock")
        first = cursor.fetchone()
        assert cursor.connection.info.transaction_status is TransactionStatus.IDLE
        cursor.execute("SELECT now() AS at")
        second = cursor.fetchone()
    assert first is not None
    assert second is not None
    assert second["at"] > first["at"]  # each statement its own transaction

    recorder.insert_tracking(Tracking("relay", 5))
    assert recorder.positions(["relay"]) == {"relay": 5}
    with pytest.raises(IntegrityError):
        recorder.insert_tracking(Tracking("relay", 5))
    recorder.insert_tracking(Tracking("relay", 7))
    assert recorder.positions(["relay"]) == {"relay": 7}


def test_a_services_connections_carry_its_name(database_url: str) -> None:
    """An operator reading pg_stat_activity sees which service holds each connection."""
    ensure_schema(database_url, "tally_named")
    env = postgres_env(database_url, "tally_named", application_name="slotline-tally")
    app = TallyApplication(env=env)
    with app.sql_recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute("SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()")
        row = cursor.fetchone()
    assert row is not None
    assert row["application_name"] == "slotline-tally"
    app.close()
