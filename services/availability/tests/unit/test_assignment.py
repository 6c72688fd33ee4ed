"""Resource assignment: which resources a slot gets, or why it gets none."""

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from slotline.availability import testing
from slotline.availability.domain.resources import ResourceState
from slotline.availability.domain.rules import RejectionReason
from slotline.availability.domain.schedule import local_date_of
from slotline.availability.domain.slots import booking_days, find_assignment
from slotline.availability.domain.values import (
    Interval,
    Requirement,
    ResourceKind,
    ServiceDefinition,
    WeeklyHours,
)
from slotline.availability.testing import Calendars

pytestmark = pytest.mark.unit

UTC_ZONE = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
LOCATION = UUID(int=900)
DAY = date(2025, 6, 2)
NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
NINE_TO_FIVE = WeeklyHours.every_day((time(9), time(17)))


def resource(
    number: int,
    kind: ResourceKind,
    *tags: str,
    weekly: WeeklyHours = NINE_TO_FIVE,
    tz: ZoneInfo = UTC_ZONE,
) -> ResourceState:
    return ResourceState(
        resource_id=UUID(int=number),
        kind=kind,
        tags=frozenset(tags),
        location_id=LOCATION,
        tz=tz,
        weekly=weekly,
    )


ANNA = resource(1, ResourceKind.STAFF, "massage")
BOB = resource(2, ResourceKind.STAFF, "massage", "deep-tissue")
CARL = resource(3, ResourceKind.STAFF, "yoga")
DORA = resource(4, ResourceKind.STAFF, "yoga")
ROOM = resource(11, ResourceKind.ROOM, "treatment")
SAUNA = resource(12, ResourceKind.ROOM, "treatment", "sauna")
STONES = resource(21, ResourceKind.EQUIPMENT, "hot-stones")
EVERYONE = [ANNA, BOB, CARL, DORA, ROOM, SAUNA, STONES]

MASSAGE = ServiceDefinition(
    service_id=UUID(int=100),
    duration=timedelta(minutes=60),
    requirements=(Requirement(ResourceKind.STAFF, frozenset({"massage"})),),
)
HOT_STONES = ServiceDefinition(
    service_id=UUID(int=101),
    duration=timedelta(minutes=60),
    requirements=(
        Requirement(ResourceKind.STAFF, frozenset({"deep-tissue"})),
        Requirement(ResourceKind.ROOM, frozenset({"sauna"})),
        Requirement(ResourceKind.EQUIPMENT, frozenset({"hot-stones"})),
    ),
)
YOGA = ServiceDefinition(
    service_id=UUID(int=102),
    duration=timedelta(minutes=60),
    requirements=(Requirement(ResourceKind.STAFF, frozenset({"yoga"})),),
    capacity=2,
)


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def slot(start: datetime, service: ServiceDefinition = MASSAGE) -> Interval:
    return service.slot_at(start)


book = partial(testing.book, service=MASSAGE, now=NOW)


def assign(
    service: ServiceDefinition,
    start: datetime,
    calendars: Calendars | None = None,
    resources: list[ResourceState] | None = None,
    **options: Any,
) -> tuple[UUID, ...] | RejectionReason:
    return find_assignment(
        service, slot(start, service), resources or EVERYONE, calendars or {}, NOW, **options
    )


class TestRequirementMatching:
    def test_staff_with_the_skill_a_room_of_the_type_and_the_equipment(self) -> None:
        # Given a hot-stone massage: a deep-tissue therapist, a sauna room, the stones
        # When a slot is requested
        chosen = assign(HOT_STONES, at(10))
        # Then exactly those resources are chosen, in requirement order
        assert chosen == (BOB.resource_id, SAUNA.resource_id, STONES.resource_id)

    def test_a_resource_of_the_right_kind_without_the_tags_does_not_qualify(self) -> None:
        assert assign(HOT_STONES, at(10), resources=[ANNA, SAUNA, STONES]) == (
            RejectionReason.OUTSIDE_HOURS
        )

    def test_a_requirement_for_two_takes_two_distinct_resources(self) -> None:
        duo = replace(
            MASSAGE, requirements=(Requirement(ResourceKind.STAFF, frozenset({"massage"}), 2),)
        )
        assert assign(duo, at(10)) == (ANNA.resource_id, BOB.resource_id)
        assert assign(duo, at(10), resources=[ANNA, ROOM]) == RejectionReason.OUTSIDE_HOURS

    def test_the_choice_backtracks_when_the_first_pick_starves_a_later_requirement(
        self,
    ) -> None:
        # Given "any massage therapist + a deep-tissue therapist", and Bob sorting first
        bob_first = replace(BOB, resource_id=UUID(int=0))
        pair = replace(
            MASSAGE,
            requirements=(
                Requirement(ResourceKind.STAFF, frozenset({"massage"})),
                Requirement(ResourceKind.STAFF, frozenset({"deep-tissue"})),
            ),
        )
        # When assigned
        chosen = assign(pair, at(10), resources=[ANNA, bob_first])
        # Then Anna takes the first requirement so Bob can take the second
        assert chosen == (ANNA.resource_id, bob_first.resource_id)

    def test_a_retired_resource_is_never_chosen(self) -> None:
        retired_anna = replace(ANNA, active=False)
        assert assign(MASSAGE, at(10), resources=[retired_anna, BOB]) == (BOB.resource_id,)

    def test_the_least_loaded_resource_that_day_is_preferred(self) -> None:
        calendars: Calendars = {}
        book(calendars, ANNA, at(9))
        assert assign(MASSAGE, at(13), calendars) == (BOB.resource_id,)

    def test_a_preferred_staff_member_is_chosen_when_free(self) -> None:
        assert assign(MASSAGE, at(10), preferred_staff_id=BOB.resource_id) == (BOB.resource_id,)

    def test_a_busy_preferred_staff_member_means_the_slot_is_taken(self) -> None:
        calendars: Calendars = {}
        book(calendars, BOB, at(10))
        reason = assign(MASSAGE, at(10), calendars, preferred_staff_id=BOB.resource_id)
        assert reason == RejectionReason.TAKEN


class TestBuffersBlockTheResource:
    PADDED = replace(MASSAGE, buffer_after=timedelta(minutes=15))

    def test_the_next_fifteen_minutes_after_a_buffered_booking_are_blocked(self) -> None:
        calendars: Calendars = {}
        book(calendars, ANNA, at(10), service=self.PADDED)
        assert assign(self.PADDED, at(11), calendars, resources=[ANNA]) == RejectionReason.TAKEN
        assert assign(self.PADDED, at(11, 15), calendars, resources=[ANNA]) == (ANNA.resource_id,)

    def test_back_to_back_without_buffers_is_fine(self) -> None:
        calendars: Calendars = {}
        book(calendars, ANNA, at(10))
        assert assign(MASSAGE, at(11), calendars, resources=[ANNA]) == (ANNA.resource_id,)


class TestRejectionReasons:
    def test_nobody_working_is_outside_hours(self) -> None:
        assert assign(MASSAGE, at(17)) == RejectionReason.OUTSIDE_HOURS

    def test_everyone_busy_is_taken(self) -> None:
        calendars: Calendars = {}
        book(calendars, ANNA, at(10))
        book(calendars, BOB, at(10, 30))
        assert assign(MASSAGE, at(10), calendars) == RejectionReason.TAKEN

    def test_a_full_group_session_with_no_other_teacher_is_capacity_full(self) -> None:
        calendars: Calendars = {}
        book(calendars, CARL, at(10), service=YOGA, seats=2)
        assert assign(YOGA, at(10), calendars, resources=[CARL]) == (RejectionReason.CAPACITY_FULL)

    def test_the_resource_daily_limit(self) -> None:
        limited = replace(MASSAGE, max_per_day_per_resource=1)
        calendars: Calendars = {}
        book(calendars, ANNA, at(9), service=limited)
        reason = assign(limited, at(14), calendars, resources=[ANNA])
        assert reason == RejectionReason.DAILY_LIMIT_REACHED

    def test_the_location_daily_limit_counts_every_resource(self) -> None:
        limited = replace(MASSAGE, max_per_day_per_location=2)
        calendars: Calendars = {}
        book(calendars, ANNA, at(9), service=limited)
        book(calendars, BOB, at(9), service=limited)
        assert assign(limited, at(14), calendars) == RejectionReason.DAILY_LIMIT_REACHED

    def test_the_booking_window_comes_first(self) -> None:
        noticed = replace(MASSAGE, minimum_notice=timedelta(days=2))
        assert assign(noticed, at(10)) == RejectionReason.TOO_SHORT_NOTICE
        near = replace(MASSAGE, booking_horizon=timedelta(hours=12))
        assert assign(near, at(10)) == RejectionReason.BEYOND_HORIZON


class TestGroupSessions:
    def test_a_newcomer_joins_the_running_session_rather_than_opening_another(self) -> None:
        # Given Dora (who sorts after Carl) already teaching the 10:00 class with a seat left
        calendars: Calendars = {}
        book(calendars, DORA, at(10), service=YOGA)
        # When another person books 10:00
        # Then they join Dora's class
        assert assign(YOGA, at(10), calendars) == (DORA.resource_id,)

    def test_a_full_session_sends_the_newcomer_to_another_teacher(self) -> None:
        calendars: Calendars = {}
        book(calendars, DORA, at(10), service=YOGA, seats=2)
        assert assign(YOGA, at(10), calendars) == (CARL.resource_id,)


class TestSlotsCrossingMidnight:
    """A padded slot crossing local midnight needs both days' calendars."""

    NIGHTS = WeeklyHours.every_day((time(0), time(6)), (time(18), time(0)))
    NIGHT_NURSE = resource(31, ResourceKind.STAFF, "massage", weekly=NIGHTS, tz=BERLIN)
    LATE = replace(MASSAGE, buffer_after=timedelta(minutes=15))
    MONDAY, TUESDAY = date(2025, 6, 2), date(2025, 6, 3)

    def late_start(self) -> datetime:
        return datetime(2025, 6, 2, 23, 30, tzinfo=BERLIN)  # 23:30-00:30 (+15 buffer)

    def test_the_slot_occupies_two_resource_days_and_counts_on_the_first(self) -> None:
        booked = self.LATE.slot_at(self.late_start())
        days = booking_days(self.LATE.occupied(booked), booked, BERLIN)
        assert days == [(self.MONDAY, True), (self.TUESDAY, False)]

    def test_a_booking_after_midnight_blocks_the_late_slot(self) -> None:
        # Given the night nurse booked at 00:30 on Tuesday, nothing on Monday
        calendars: Calendars = {}
        tuesday_night = datetime(2025, 6, 3, 0, 30, tzinfo=BERLIN)
        book(calendars, self.NIGHT_NURSE, tuesday_night, service=self.LATE)
        assert (self.NIGHT_NURSE.resource_id, self.MONDAY) not in calendars
        # When Monday 23:30 is requested (occupying until 00:45)
        reason = assign(self.LATE, self.late_start(), calendars, resources=[self.NIGHT_NURSE])
        # Then Tuesday's calendar makes it taken
        assert reason == RejectionReason.TAKEN

    def test_free_on_both_days_the_late_slot_is_assigned(self) -> None:
        chosen = assign(self.LATE, self.late_start(), resources=[self.NIGHT_NURSE])
        assert chosen == (self.NIGHT_NURSE.resource_id,)
        assert local_date_of(self.late_start(), BERLIN) == self.MONDAY

    def test_without_hours_after_midnight_the_late_slot_is_outside_hours(self) -> None:
        evenings = replace(self.NIGHT_NURSE, weekly=WeeklyHours.every_day((time(18), time(0))))
        reason = assign(self.LATE, self.late_start(), resources=[evenings])
        assert reason == RejectionReason.OUTSIDE_HOURS
