"""Every aggregate's events survive the event store's default transcoder.

Uses ``eventsourcing``'s in-memory (POPO) recorder, which still serialises each event,
so an attribute the transcoder cannot store fails here rather than in production.
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import Application

from slotline.availability.domain.calendar import Reservation, ResourceDay
from slotline.availability.domain.catalog import Location, Resource, Service
from slotline.availability.domain.hold import Hold, HoldAsk, HoldStatus
from slotline.availability.domain.values import (
    DateOverride,
    Interval,
    Requirement,
    ResourceKind,
    ResourceSchedule,
    ServiceDefinition,
    TimeOff,
    WeeklyHours,
)

pytestmark = pytest.mark.unit

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
SLOT = Interval(datetime(2025, 6, 2, 10, tzinfo=UTC), datetime(2025, 6, 2, 11, tzinfo=UTC))


@pytest.fixture
def app() -> Iterator[Application[UUID]]:
    application: Application[UUID] = Application()
    yield application
    application.close()


class TestAggregatesRoundTripThroughTheStore:
    def test_a_resource_day_is_rebuilt_with_its_entries(self, app: Application[UUID]) -> None:
        # Given a day with an allocation, a freed hold and a live hold
        day = ResourceDay.open(uuid4(), date(2025, 6, 2))
        kept, freed, held = uuid4(), uuid4(), uuid4()
        for hold_id, start in ((kept, 9), (freed, 10), (held, 11)):
            booked = Interval(SLOT.start.replace(hour=start), SLOT.end.replace(hour=start + 1))
            expires_at = NOW + timedelta(minutes=5)
            day.reserve(Reservation(hold_id, booked, booked, uuid4(), 1, 1, expires_at), NOW)
        day.allocate(kept, NOW)
        day.free(freed, "released")
        # When it is saved and read back
        app.save(day)
        copy: ResourceDay = app.repository.get(day.id)
        # Then it holds the same entries
        assert copy.local_date == date(2025, 6, 2)
        assert copy.entries == day.entries

    def test_a_rescheduled_hold_is_rebuilt(self, app: Application[UUID]) -> None:
        ask = HoldAsk(
            tenant_id="tenant-1", hold_key="r-1", service_id=uuid4(), location_id=uuid4(), slot=SLOT
        )
        hold = Hold.place(
            ask, resource_ids=[uuid4()], seats=2, expires_at=NOW + timedelta(minutes=5)
        )
        hold.confirm(NOW)
        moved = Interval(SLOT.start + timedelta(days=1), SLOT.end + timedelta(days=1))
        hold.reschedule(moved, [uuid4(), uuid4()], NOW)
        app.save(hold)
        copy: Hold = app.repository.get(hold.id)
        assert (copy.slot, copy.resource_ids, copy.status) == (
            moved,
            hold.resource_ids,
            HoldStatus.CONFIRMED,
        )

    def test_catalog_items_are_rebuilt_with_their_value_objects(
        self, app: Application[UUID]
    ) -> None:
        location = Location.register("tenant-1", "Main", "America/New_York")
        resource = Resource.register(
            location.tenant_id, location.id, ResourceKind.ROOM, "Room 1", {"treatment"},
            ResourceSchedule(
                WeeklyHours.of({0: [(time(9), time(0))]}),
                overrides=(DateOverride(date(2025, 7, 4)),),
                time_off=(TimeOff(SLOT),),
            ),
        )  # fmt: skip
        definition = ServiceDefinition(
            service_id=uuid4(),
            duration=timedelta(minutes=45),
            requirements=(Requirement(ResourceKind.ROOM, frozenset({"treatment"}), 1),),
            capacity=4,
            max_per_day_per_location=10,
        )
        service = Service.register(location.tenant_id, location.id, "Class", definition)
        service.retire()
        app.save(location, resource, service)
        stored_location: Location = app.repository.get(location.id)
        assert stored_location.tz == location.tz
        copy: Resource = app.repository.get(resource.id)
        assert (copy.weekly, copy.overrides, copy.time_off, copy.tags) == (
            resource.weekly,
            resource.overrides,
            resource.time_off,
            resource.tags,
        )
        stored_service: Service = app.repository.get(service.id)
        assert stored_service.definition == definition
        assert stored_service.retired
