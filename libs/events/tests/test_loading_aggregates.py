"""Loading several aggregates probes the events table's primary key once per aggregate:
never a scan of the whole table, whatever its size and the planner's statistics."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import pytest
from psycopg import sql

from slotline.events.testing.tally import Tally, TallyApplication

pytestmark = pytest.mark.integration

TALLIES = 300
COUNTS = 5
"""1,500 events: a table of a few dozen pages, where a hash join over a sequential scan
looks cheapest to the planner for a plain join (how every load of a young service's
store ran until 2026-12-05, at 1–3 ms a load)."""


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    found = [plan]
    for child in plan.get("Plans", []):
        found += _nodes(child)
    return found


def _seeded(app: TallyApplication) -> list[UUID]:
    ids = []
    for _ in range(TALLIES):
        tally = Tally()
        for _ in range(COUNTS):
            tally.count(1)
        ids.append(tally.id)
        app.save(tally)
    return ids


def test_the_generic_plan_of_a_load_probes_the_key_and_never_scans_the_table(
    tally_app: TallyApplication,
) -> None:
    _seeded(tally_app)
    recorder: Any = tally_app.recorder
    statement = tally_app._load_many_statement
    with recorder.transaction(commit=False) as cursor:
        table = sql.Identifier(recorder.datastore.schema, recorder.events_table_name)
        cursor.execute(sql.SQL("ANALYZE {}").format(table))
        # the plan a prepared statement settles on after its fifth run: no values seen
        query = statement.decode().replace("%b", "$1", 1).replace("%b", "$2", 1)
        cursor.execute("EXPLAIN (GENERIC_PLAN, FORMAT JSON) " + query)
        row = cursor.fetchone()
    assert row is not None
    plan = next(iter(row.values()))
    plan = json.loads(plan) if isinstance(plan, str) else plan
    scans = [
        node["Node Type"]
        for node in _nodes(plan[0]["Plan"])
        if node.get("Relation Name") == recorder.events_table_name
    ]
    assert scans
    assert "Seq Scan" not in scans, scans  # index or bitmap probes, by key


def test_a_load_fast_forwards_cached_aggregates_and_replays_the_rest(
    tally_app: TallyApplication,
) -> None:
    ids = _seeded(tally_app)[:4]
    tally_app.load_many(ids)  # cached (when the application caches) at COUNTS + 1
    newer: Tally = tally_app.repository.get(ids[0])
    newer.count(7)
    tally_app.save(newer)
    loaded = tally_app.load_many([*ids, Tally().id])
    assert sorted(loaded) == sorted(ids)  # one never saved: not found
    assert loaded[ids[0]].total == COUNTS + 7
    assert [loaded[i].total for i in ids[1:]] == [COUNTS] * 3
