"""Hold use cases on a real PostgreSQL: reschedule, late timers, refusals, schedule edits."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from slotline.availability import demo
from slotline.availability.application import (
    AvailabilityApplication,
    HoldRefused,
    HoldRequest,
    HoldTaken,
)
from slotline.availability.domain.calendar import ResourceDay
from slotline.availability.domain.catalog import Resource
from slotline.availability.domain.hold import Hold, HoldStatus
from slotline.availability.domain.refusal import HoldRefusal
from slotline.availability.domain.rules import RejectionReason
from slotline.availability.domain.values import DateOverride, ResourceSchedule

pytestmark = pytest.mark.integration

ATHENS = ZoneInfo("Europe/Athens")
DAY = date(2026, 12, 7)
TEN = datetime.combine(DAY, time(10), ATHENS)
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=ZoneInfo("UTC"))  # the app fixture's clock


@pytest.fixture
def clinic(app: AvailabilityApplication) -> demo.Clinic:
    return demo.open_clinic(app, f"tenant-{uuid.uuid4()}", staff=1, rooms=1)


def request(clinic: demo.Clinic, key: str, start: datetime, **extra: object) -> HoldRequest:
    return HoldRequest(
        clinic.tenant_id,
        key,
        clinic.service_id,
        clinic.location_id,
        start,
        **extra,  # type: ignore[arg-type]  # optional fields of several types, by name
    )


def entries(app: AvailabilityApplication, resource: uuid.UUID) -> dict[uuid.UUID, object]:
    calendar: ResourceDay = app.repository.get(ResourceDay.create_id(resource, DAY))
    return {hold_id: entry.slot.start for hold_id, entry in calendar.entries.items()}


class TestReschedule:
    def test_a_move_onto_an_overlapping_slot_takes_the_new_and_frees_the_old(
        self, app: AvailabilityApplication, clinic: demo.Clinic
    ) -> None:
        taken = app.place_hold(request(clinic, "a", TEN))
        assert isinstance(taken, HoldTaken)
        app.confirm_hold(taken.hold_id)
        later = TEN + timedelta(minutes=30)  # overlaps the slot it leaves
        moved = app.reschedule_hold(taken.hold_id, later)
        assert isinstance(moved, HoldTaken)
        hold = app.hold(taken.hold_id)
        assert hold.status is HoldStatus.CONFIRMED
        assert hold.slot.start == later
        for resource in (*clinic.staff_ids, *clinic.room_ids):
            assert entries(app, resource) == {taken.hold_id: later}
        # The old time is free for someone else now, the new one is not.
        assert isinstance(app.place_hold(request(clinic, "b", TEN - timedelta(hours=1))), HoldTaken)
        assert isinstance(app.place_hold(request(clinic, "c", later)), HoldRefused)

    def test_a_refused_move_keeps_the_old_slot(
        self, app: AvailabilityApplication, clinic: demo.Clinic
    ) -> None:
        first = app.place_hold(request(clinic, "a", TEN))
        other = app.place_hold(request(clinic, "b", TEN + timedelta(hours=3)))
        assert isinstance(first, HoldTaken)
        assert isinstance(other, HoldTaken)
        refused = app.reschedule_hold(first.hold_id, TEN + timedelta(hours=3))
        assert isinstance(refused, HoldRefused)
        assert refused.reason is RejectionReason.TAKEN
        assert app.hold(first.hold_id).slot.start == TEN
        assert entries(app, clinic.staff_ids[0]) == {
            first.hold_id: TEN,
            other.hold_id: TEN + timedelta(hours=3),
        }


class TestLateTimers:
    def test_expiring_a_confirmed_hold_frees_nothing(
        self, app: AvailabilityApplication, clinic: demo.Clinic
    ) -> None:
        taken = app.place_hold(request(clinic, "a", TEN))
        assert isinstance(taken, HoldTaken)
        app.confirm_hold(taken.hold_id)
        app.expire_hold(taken.hold_id)  # the timer fired after the confirmation
        assert app.hold(taken.hold_id).status is HoldStatus.CONFIRMED
        assert taken.hold_id in entries(app, clinic.staff_ids[0])
        assert isinstance(app.place_hold(request(clinic, "b", TEN)), HoldRefused)

    def test_a_command_confirming_too_late_records_the_expiry(
        self, app: AvailabilityApplication, clinic: demo.Clinic
    ) -> None:
        taken = app.place_hold(request(clinic, "a", TEN))
        assert isinstance(taken, HoldTaken)
        placed_at = app.clock()
        app.clock = lambda: placed_at + timedelta(minutes=11)  # past the 10-min TTL
        assert app.confirm_or_expire(taken.hold_id).status is HoldStatus.EXPIRED
        assert entries(app, clinic.staff_ids[0]) == {}


class TestRecordedRefusals:
    def test_a_recorded_refusal_answers_the_same_key_again(
        self, app: AvailabilityApplication, clinic: demo.Clinic
    ) -> None:
        assert isinstance(app.place_hold(request(clinic, "a", TEN)), HoldTaken)
        refused = app.place_hold(request(clinic, "b", TEN), record_refusal=True)
        assert isinstance(refused, HoldRefused)
        stored: object = app.repository.get(refused_id := Hold.create_id(clinic.tenant_id, "b"))
        assert isinstance(stored, HoldRefusal)
        assert stored.id == refused_id
        again = app.place_hold(request(clinic, "b", TEN + timedelta(hours=4)))
        assert again == refused  # the key's answer does not change

    def test_an_unknown_service_is_a_recorded_refusal_for_commands(
        self, app: AvailabilityApplication, clinic: demo.Clinic
    ) -> None:
        stranger = HoldRequest(clinic.tenant_id, "x", uuid.uuid4(), clinic.location_id, TEN)
        refused = app.place_hold(stranger, record_refusal=True)
        assert isinstance(refused, HoldRefused)
        assert refused.reason is RejectionReason.UNKNOWN_SERVICE


class TestRefusalOffers:
    def test_refusals_of_a_rush_share_the_day_they_offer_from_while_it_stays_the_same(
        self, app: AvailabilityApplication, clinic: demo.Clinic
    ) -> None:
        assert isinstance(app.place_hold(request(clinic, "a", TEN)), HoldTaken)
        first = app.place_hold(request(clinic, "b", TEN))
        hits = app.day_views.hits
        again = app.place_hold(request(clinic, "c", TEN))
        assert isinstance(first, HoldRefused) and isinstance(again, HoldRefused)  # noqa: PT018
        assert again.alternatives == first.alternatives
        assert app.day_views.hits == hits + 1

        # A calendar changed: the day is worked out again, the slot just taken not offered.
        offered = first.alternatives[0].start
        assert isinstance(app.place_hold(request(clinic, "d", offered)), HoldTaken)
        after = app.place_hold(request(clinic, "e", TEN))
        assert isinstance(after, HoldRefused)
        assert offered not in [alternative.start for alternative in after.alternatives]
        assert app.day_views.hits == hits + 1

        # Time moved on (holds lapse, the notice window moves): worked out again too.
        app.clock = lambda: NOW + timedelta(seconds=2)
        later = app.place_hold(request(clinic, "f", TEN))
        assert isinstance(later, HoldRefused)
        assert later.alternatives == after.alternatives
        assert app.day_views.hits == hits + 1


class TestScheduleEdits:
    def test_two_concurrent_edits_both_land(
        self, app: AvailabilityApplication, clinic: demo.Clinic
    ) -> None:
        staff = clinic.staff_ids[0]
        both_read = threading.Barrier(2, timeout=10)

        def add(override: DateOverride) -> None:
            attempts = 0

            def edit(resource: Resource) -> ResourceSchedule:
                nonlocal attempts
                attempts += 1
                if attempts == 1:
                    both_read.wait()  # each has read the schedule before either saves
                return ResourceSchedule(
                    resource.weekly, (*resource.overrides, override), resource.time_off
                )

            app.edit_schedule(clinic.tenant_id, staff, edit)

        christmas, new_year = DateOverride(date(2026, 12, 25)), DateOverride(date(2027, 1, 1))
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(add, (christmas, new_year)))
        overrides = set(app.resource(clinic.tenant_id, staff).overrides)
        assert overrides == {christmas, new_year}
