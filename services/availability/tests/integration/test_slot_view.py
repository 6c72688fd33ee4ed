"""The slot projection on a real PostgreSQL: the view matches the rules, exactly once."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from eventsourcing.persistence import IntegrityError

from slotline.availability import demo
from slotline.availability.application import AvailabilityApplication, HoldRequest, HoldTaken
from slotline.availability.http.rows import renamed
from slotline.availability.live import board, queries
from slotline.availability.live.projection import SlotProjection
from slotline.availability.live.queries import SlotQuery

pytestmark = pytest.mark.integration

ATHENS = ZoneInfo("Europe/Athens")
DAY = date(2026, 12, 7)
TEN = datetime.combine(DAY, time(10), ATHENS)
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=ZoneInfo("UTC"))


def stored_day(projection: SlotProjection, clinic: demo.Clinic) -> list[tuple[Any, ...]]:
    with projection.recorder.datastore.transaction(commit=False) as cursor:
        rows = queries.day_view(cursor, "availability", clinic.service_id, clinic.location_id, DAY)
    return [(r["slot_start"], r["status"], r["free_resources"], r["alternatives"]) for r in rows]


def computed_day(app: AvailabilityApplication, clinic: demo.Clinic) -> list[tuple[Any, ...]]:
    slots = app.slots_on(clinic.service_id, clinic.location_id, DAY)
    return [(s.start, s.status.value, s.free_resources, s.alternatives) for s in slots]


def hold(app: AvailabilityApplication, clinic: demo.Clinic, key: str, start: datetime) -> HoldTaken:
    taken = app.place_hold(
        HoldRequest(clinic.tenant_id, key, clinic.service_id, clinic.location_id, start)
    )
    assert isinstance(taken, HoldTaken)
    return taken


@pytest.fixture
def clinic(app: AvailabilityApplication) -> demo.Clinic:
    return demo.open_clinic(app, f"tenant-{uuid.uuid4()}", horizon=timedelta(days=10))


class TestSlotView:
    def test_the_view_is_what_the_hold_rules_compute(
        self, app: AvailabilityApplication, projection: SlotProjection, clinic: demo.Clinic
    ) -> None:
        projection.catch_up()
        day = stored_day(projection, clinic)
        assert day == computed_day(app, clinic)
        assert len(day) == 44  # 09:00..19:45 every 15 min: the last 60+15 min ends at 21:00
        assert {status for _, status, _, _ in day} == {"available"}

    def test_a_confirmation_recomputes_nothing_and_the_view_stays_true(
        self, app: AvailabilityApplication, projection: SlotProjection, clinic: demo.Clinic
    ) -> None:
        projection.catch_up()
        taken = hold(app, clinic, "c", TEN)
        projection.catch_up()
        held = stored_day(projection, clinic)
        recomputed = projection.days_recomputed
        app.confirm_hold(taken.hold_id)
        projection.catch_up()
        assert projection.days_recomputed == recomputed
        assert stored_day(projection, clinic) == held == computed_day(app, clinic)

    def test_holds_turn_a_slot_limited_then_booked_and_release_frees_it(
        self, app: AvailabilityApplication, projection: SlotProjection, clinic: demo.Clinic
    ) -> None:
        projection.catch_up()
        first = hold(app, clinic, "a", TEN)
        projection.catch_up()
        ten = {start: status for start, status, *_ in stored_day(projection, clinic)}
        assert ten[TEN] == "limited"  # one room left: one more booking fits
        second = hold(app, clinic, "b", TEN)
        projection.catch_up()
        ten = {start: status for start, status, *_ in stored_day(projection, clinic)}
        assert ten[TEN] == "booked"
        # The rooms' buffers reach into the next slots too.
        assert ten[TEN + timedelta(minutes=45)] == "booked"
        assert ten[TEN + timedelta(minutes=75)] == "available"
        assert stored_day(projection, clinic) == computed_day(app, clinic)

        app.release_hold(first.hold_id)
        app.release_hold(second.hold_id)
        projection.catch_up()
        assert stored_day(projection, clinic) == computed_day(app, clinic)
        assert {s for _, s, *_ in stored_day(projection, clinic)} == {"available"}

    def test_a_batch_is_projected_exactly_once(
        self, app: AvailabilityApplication, projection: SlotProjection, clinic: demo.Clinic
    ) -> None:
        projection.catch_up()
        start = projection.position or 0
        hold(app, clinic, "a", TEN)
        projection.catch_up()
        batch = app.process_recorder.select_notifications(
            start=start, limit=100, inclusive_of_start=False
        )
        before = stored_day(projection, clinic)
        with pytest.raises(IntegrityError):
            projection.project(batch)  # a redelivered batch: its position is recorded
        assert stored_day(projection, clinic) == before

    def test_a_rebuild_from_the_first_event_gives_the_same_view(
        self, app: AvailabilityApplication, projection: SlotProjection, clinic: demo.Clinic
    ) -> None:
        hold(app, clinic, "a", TEN)
        hold(app, clinic, "b", TEN + timedelta(hours=2))
        app.confirm_hold(hold(app, clinic, "c", TEN + timedelta(hours=4)).hold_id)
        projection.catch_up()
        live = stored_day(projection, clinic)
        fresh = SlotProjection(app, database_url=projection.database_url)
        fresh.rebuild()
        assert fresh.catch_up() == projection.events_applied
        assert stored_day(fresh, clinic) == live == computed_day(app, clinic)

    def test_slots_filter_by_staff_and_hide_what_is_too_soon(
        self, app: AvailabilityApplication, projection: SlotProjection, clinic: demo.Clinic
    ) -> None:
        taken = hold(app, clinic, "a", TEN)
        projection.catch_up()
        busy_staff = next(r for r in taken.resource_ids if r in clinic.staff_ids)
        query = SlotQuery(
            clinic.tenant_id,
            location_id=clinic.location_id,
            resource_id=busy_staff,
            start_from=TEN - timedelta(hours=1),
            until=TEN + timedelta(hours=2),
        )
        with projection.recorder.datastore.transaction(commit=False) as cursor:
            with_busy = queries.find_slots(cursor, "availability", query, NOW)
            later = queries.find_slots(
                cursor, "availability", SlotQuery(clinic.tenant_id, limit=5), TEN
            )
        starts = [row["slot_start"] for row in with_busy]
        assert starts == sorted(starts)
        # the busy therapist is free again only after the 60-min session (+15 buffer)
        assert TEN not in starts
        assert TEN + timedelta(minutes=75) in starts
        assert TEN - timedelta(hours=1) not in starts  # its 15-min buffer would overlap
        assert starts
        assert all(row["slot_start"] >= TEN for row in later)


def test_the_json_answer_says_what_the_rows_say(
    app: AvailabilityApplication, projection: SlotProjection, clinic: demo.Clinic
) -> None:
    """PostgreSQL writes the HTTP answer: the same slots, ids and ISO 8601 times as the
    rows read into Python (a booked slot included)."""
    hold(app, clinic, "a", TEN)
    projection.catch_up()
    query = SlotQuery(clinic.tenant_id, location_id=clinic.location_id, include_booked=True)
    with projection.recorder.datastore.transaction(commit=False) as cursor:
        rows = queries.find_slots(cursor, "availability", query, NOW)
        answer = json.loads(queries.find_slots_json(cursor, "availability", query, NOW))
        nothing = queries.find_slots_json(cursor, "availability", SlotQuery("no-such-tenant"), NOW)
    expected = [renamed(row, start="slot_start", end="slot_end", day="local_day") for row in rows]
    assert len(rows) > 10
    assert answer == expected
    assert nothing == "[]"


def test_a_view_made_before_stored_answers_is_answered_the_same(
    app: AvailabilityApplication, projection: SlotProjection, clinic: demo.Clinic
) -> None:
    """A slot's JSON is made when the projector writes it; a view written before that
    column existed gets it when the tables are made again, the same as a new row's."""
    hold(app, clinic, "a", TEN)
    projection.catch_up()
    query = SlotQuery(clinic.tenant_id, location_id=clinic.location_id, include_booked=True)
    with projection.recorder.datastore.transaction(commit=True) as cursor:
        written = queries.find_slots_json(cursor, "availability", query, NOW)
        cursor.execute("ALTER TABLE availability.slot_view DROP COLUMN answer")
        board.create_tables(cursor, "availability")
        cursor.execute("SELECT count(*) AS n FROM availability.slot_view WHERE answer IS NULL")
        missing = cursor.fetchone()
        again = queries.find_slots_json(cursor, "availability", query, NOW)
    assert missing is not None
    assert missing["n"] == 0
    assert len(json.loads(written)) > 10
    assert again == written  # byte for byte
