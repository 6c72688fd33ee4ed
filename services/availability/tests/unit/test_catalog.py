"""Catalog: locations, resources and services are registered, updated and retired."""

from datetime import UTC, date, datetime, time, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest

from slotline.availability.domain.catalog import (
    CatalogItemRetired,
    Location,
    Resource,
    Service,
)
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

TENANT = "tenant-1"
WEEKDAYS = WeeklyHours.of({day: [(time(9), time(17))] for day in range(5)})
MASSAGE = ServiceDefinition(
    service_id=uuid4(),
    duration=timedelta(minutes=60),
    requirements=(
        Requirement(ResourceKind.STAFF, frozenset({"massage"})),
        Requirement(ResourceKind.ROOM, frozenset({"treatment"})),
    ),
    buffer_after=timedelta(minutes=15),
    minimum_notice=timedelta(hours=2),
    max_per_day_per_resource=6,
    price_tier="premium",
)


def kinds(aggregate: Location | Resource | Service) -> list[type[object]]:
    return [type(e) for e in aggregate.collect_events()]


class TestLocations:
    def test_a_location_keeps_its_time_zone(self) -> None:
        location = Location.register(TENANT, "Kolonaki", "Europe/Athens")
        assert location.tz == ZoneInfo("Europe/Athens")
        location.update("Kolonaki studio", "Europe/Athens")
        location.retire()
        location.retire()
        assert kinds(location) == [Location.Registered, Location.Updated, Location.Retired]

    def test_an_unknown_time_zone_is_refused_at_registration(self) -> None:
        with pytest.raises(ZoneInfoNotFoundError):
            Location.register(TENANT, "Atlantis", "Atlantis/Capital")


class TestResources:
    def test_a_registered_resource_is_seen_by_slot_finding_as_registered(self) -> None:
        location_id = uuid4()
        holiday = DateOverride(date(2025, 12, 25))
        leave = TimeOff(
            Interval(datetime(2025, 8, 1, tzinfo=UTC), datetime(2025, 8, 15, tzinfo=UTC))
        )
        schedule = ResourceSchedule(WEEKDAYS, overrides=(holiday,), time_off=(leave,))
        anna = Resource.register(
            TENANT, location_id, ResourceKind.STAFF, "Anna", {"massage"}, schedule
        )
        state = anna.state(ZoneInfo("Europe/Athens"))
        assert state.resource_id == anna.id
        assert state.kind is ResourceKind.STAFF
        assert state.tags == frozenset({"massage"})
        assert state.location_id == location_id
        assert state.weekly == WEEKDAYS
        assert state.overrides == (holiday,)
        assert state.time_off == (leave,)
        assert state.active

    def test_schedule_and_tags_change_by_events(self) -> None:
        anna = Resource.register(
            TENANT, uuid4(), ResourceKind.STAFF, "Anna", (), ResourceSchedule(WEEKDAYS)
        )
        anna.update("Anna K.", anna.location_id, {"massage", "deep-tissue"})
        anna.change_schedule(ResourceSchedule(WeeklyHours.every_day((time(10), time(14)))))
        assert anna.tags == frozenset({"massage", "deep-tissue"})
        assert anna.weekly.ranges_for(6) == ((time(10), time(14)),)
        assert kinds(anna) == [Resource.Registered, Resource.Updated, Resource.ScheduleChanged]

    def test_a_retired_resource_is_inactive_and_frozen(self) -> None:
        weekdays = ResourceSchedule(WEEKDAYS)
        room = Resource.register(TENANT, uuid4(), ResourceKind.ROOM, "Room 1", (), weekdays)
        room.retire()
        assert not room.state(ZoneInfo("UTC")).active
        with pytest.raises(CatalogItemRetired):
            room.change_schedule(weekdays)


class TestServices:
    def test_the_service_id_is_the_definition_id(self) -> None:
        service = Service.register(TENANT, uuid4(), "Massage 60", MASSAGE)
        assert service.id == MASSAGE.service_id
        assert service.definition == MASSAGE

    def test_an_update_replaces_the_definition_but_not_the_id(self) -> None:
        service = Service.register(TENANT, uuid4(), "Massage 60", MASSAGE)
        longer = ServiceDefinition(
            service_id=MASSAGE.service_id,
            duration=timedelta(minutes=90),
            requirements=MASSAGE.requirements,
        )
        service.update("Massage 90", longer)
        assert service.definition == longer
        with pytest.raises(ValueError, match="keeps the service's id"):
            service.update(
                "Other", ServiceDefinition(uuid4(), timedelta(minutes=30), MASSAGE.requirements)
            )


class TestServiceDefinitionsAreValid:
    def test_a_service_needs_a_requirement(self) -> None:
        with pytest.raises(ValueError, match="requirement"):
            ServiceDefinition(uuid4(), timedelta(minutes=30), ())

    def test_capacity_is_at_least_one(self) -> None:
        with pytest.raises(ValueError, match="capacity"):
            ServiceDefinition(uuid4(), timedelta(minutes=30), MASSAGE.requirements, capacity=0)

    def test_the_occupied_interval_is_the_slot_with_its_buffers(self) -> None:
        slot = MASSAGE.slot_at(datetime(2025, 6, 2, 10, tzinfo=UTC))
        assert MASSAGE.occupied(slot) == Interval(
            datetime(2025, 6, 2, 10, tzinfo=UTC), datetime(2025, 6, 2, 11, 15, tzinfo=UTC)
        )
