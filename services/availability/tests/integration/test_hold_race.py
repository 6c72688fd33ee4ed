"""200 clients race for 5 slots needing staff + room: only the possible holds succeed."""

from __future__ import annotations

import itertools
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time, timedelta
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
from slotline.availability.domain.rules import RejectionReason
from slotline.availability.domain.values import Interval
from slotline.availability.live import board
from slotline.availability.live.projection import SlotProjection
from slotline.events.unit_of_work import ContentionTooHigh

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # the conftest's clock

ATHENS = ZoneInfo("Europe/Athens")
DAY = date(2026, 12, 7)  # a Monday
STARTS = [datetime.combine(DAY, time(h), ATHENS) for h in (10, 12, 14, 16, 18)]


def open_clinic(app: AvailabilityApplication) -> tuple[str, uuid.UUID, uuid.UUID]:
    clinic = demo.open_clinic(app, f"tenant-{uuid.uuid4()}", horizon=timedelta(days=90))
    return clinic.tenant_id, clinic.location_id, clinic.service_id


class TestHoldRace:
    def test_exactly_the_possible_holds_succeed_and_none_overlap(
        self, app: AvailabilityApplication, projection: SlotProjection
    ) -> None:
        tenant, location, service = open_clinic(app)

        def client(n: int) -> HoldTaken | HoldRefused | ContentionTooHigh:
            try:
                return app.place_hold(
                    HoldRequest(tenant, f"req-{n}", service, location, STARTS[n % 5])
                )
            except ContentionTooHigh as error:
                return error

        with ThreadPoolExecutor(max_workers=32) as pool:
            outcomes = list(pool.map(client, range(200)))

        taken = [o for o in outcomes if isinstance(o, HoldTaken)]
        refused = [o for o in outcomes if not isinstance(o, HoldTaken)]
        assert len(taken) == 5 * 2  # two rooms: two parallel sessions per slot
        assert all(
            isinstance(o, ContentionTooHigh) or o.reason is RejectionReason.TAKEN for o in refused
        )
        assert all(isinstance(o, HoldRefused) for o in refused), "contention resolved in bounds"

        # Check the invariant from the event store, replayed afresh.
        replayed = AvailabilityApplication(env=app.env, clock=lambda: NOW)
        by_resource: dict[uuid.UUID, list[Interval]] = defaultdict(list)
        for hold in taken:
            for resource_id in hold.resource_ids:
                calendar: ResourceDay = replayed.repository.get(
                    ResourceDay.create_id(resource_id, DAY)
                )
                entry = calendar.entries[hold.hold_id]
                by_resource[resource_id].append(entry.occupied)
        for intervals in by_resource.values():
            intervals.sort(key=lambda i: i.start)
            assert all(not a.overlaps(b) for a, b in itertools.pairwise(intervals))

        # And from the read model the projection keeps.
        projection.catch_up()
        with projection.recorder.datastore.transaction(commit=False) as cursor:
            assert board.overlapping_allocations(cursor, "availability", NOW) == 0
            cursor.execute("SELECT count(*) AS n FROM availability.hold_view WHERE status = 'held'")
            row = cursor.fetchone()
        assert row is not None
        assert row["n"] == 10

    def test_a_repeated_request_returns_the_first_hold(self, app: AvailabilityApplication) -> None:
        tenant, location, service = open_clinic(app)
        first = app.place_hold(HoldRequest(tenant, "same", service, location, STARTS[0]))
        again = app.place_hold(HoldRequest(tenant, "same", service, location, STARTS[0]))
        assert isinstance(first, HoldTaken)
        assert again == first

    def test_a_taken_slot_is_refused_with_the_nearest_alternatives(
        self, app: AvailabilityApplication
    ) -> None:
        tenant, location, service = open_clinic(app)
        for n in range(2):
            assert isinstance(
                app.place_hold(HoldRequest(tenant, f"r{n}", service, location, STARTS[0])),
                HoldTaken,
            )
        refused = app.place_hold(HoldRequest(tenant, "late", service, location, STARTS[0]))
        assert isinstance(refused, HoldRefused)
        assert refused.reason is RejectionReason.TAKEN
        assert refused.alternatives
        assert all(alt.start != STARTS[0] for alt in refused.alternatives)
        assert abs(refused.alternatives[0].start - STARTS[0]) <= timedelta(hours=1, minutes=15)

    def test_a_released_hold_frees_its_slot(self, app: AvailabilityApplication) -> None:
        tenant, location, service = open_clinic(app)
        holds = [
            app.place_hold(HoldRequest(tenant, f"r{n}", service, location, STARTS[1]))
            for n in range(2)
        ]
        assert all(isinstance(h, HoldTaken) for h in holds)
        first = holds[0]
        assert isinstance(first, HoldTaken)
        app.release_hold(first.hold_id)
        assert isinstance(
            app.place_hold(HoldRequest(tenant, "next", service, location, STARTS[1])), HoldTaken
        )
