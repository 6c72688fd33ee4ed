"""Day views and alternatives: what the live view shows, and what to offer instead."""

import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slotline.availability import testing
from slotline.availability.domain import slots as slot_rules
from slotline.availability.domain.resources import ResourceState
from slotline.availability.domain.slots import (
    SlotStatus,
    SlotView,
    day_slots,
    nearest_alternatives,
)
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
ATHENS = ZoneInfo("Europe/Athens")
DAY = date(2025, 6, 2)
NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
MORNINGS = WeeklyHours.every_day((time(9), time(12)))


def staff(number: int, *tags: str, weekly: WeeklyHours = MORNINGS) -> ResourceState:
    return ResourceState(
        resource_id=UUID(int=number),
        kind=ResourceKind.STAFF,
        tags=frozenset(tags),
        location_id=UUID(int=900),
        tz=UTC_ZONE,
        weekly=weekly,
    )


ANNA, BOB, CARL = staff(1, "massage"), staff(2, "massage"), staff(3, "yoga")
MASSAGE = ServiceDefinition(
    service_id=UUID(int=100),
    duration=timedelta(minutes=60),
    requirements=(Requirement(ResourceKind.STAFF, frozenset({"massage"})),),
    slot_interval=timedelta(minutes=60),
)
YOGA = replace(
    MASSAGE,
    service_id=UUID(int=101),
    requirements=(Requirement(ResourceKind.STAFF, frozenset({"yoga"})),),
    capacity=3,
)


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


book = partial(testing.book, service=MASSAGE, now=NOW)


def view(
    service: ServiceDefinition = MASSAGE,
    resources: Sequence[ResourceState] = (ANNA, BOB),
    calendars: Calendars | None = None,
    now: datetime = NOW,
) -> dict[time, SlotView]:
    slots = day_slots(service, DAY, list(resources), calendars or {}, now, UTC_ZONE)
    return {s.start.time(): s for s in slots}


class TestSlotStatus:
    def test_an_empty_morning_is_available_everywhere(self) -> None:
        slots = view()
        assert list(slots) == [time(9), time(10), time(11)]
        assert all(s.status is SlotStatus.AVAILABLE for s in slots.values())
        assert slots[time(9)].free_resources == 2
        assert slots[time(9)].alternatives == 2
        assert slots[time(9)].seats_left is None

    def test_one_therapist_left_is_limited(self) -> None:
        # Given Anna booked at 10:00
        calendars: Calendars = {}
        book(calendars, ANNA, at(10))
        # When the day is viewed
        slot = view(calendars=calendars)[time(10)]
        # Then 10:00 is limited: only Bob remains
        assert slot.status is SlotStatus.LIMITED
        assert (slot.free_resources, slot.alternatives) == (1, 1)

    def test_no_therapist_left_is_booked(self) -> None:
        calendars: Calendars = {}
        book(calendars, ANNA, at(10))
        book(calendars, BOB, at(10))
        slot = view(calendars=calendars)[time(10)]
        assert slot.status is SlotStatus.BOOKED
        assert not slot.bookable

    def test_slots_inside_the_minimum_notice_are_not_offered(self) -> None:
        noticed = replace(MASSAGE, minimum_notice=timedelta(hours=1))
        slots = view(noticed, now=at(8, 30))
        assert list(slots) == [time(10), time(11)]

    def test_starts_where_only_some_required_resources_work_are_not_offered(self) -> None:
        # Given a treatment room open 8:00-20:00 and therapists working 9:00-12:00
        room = replace(
            staff(11, "treatment"),
            kind=ResourceKind.ROOM,
            weekly=WeeklyHours.every_day((time(8), time(20))),
        )
        with_room = replace(
            MASSAGE,
            requirements=(*MASSAGE.requirements, Requirement(ResourceKind.ROOM)),
        )
        # Then only the therapists' hours are offered
        assert list(view(with_room, resources=(ANNA, BOB, room))) == [
            time(9),
            time(10),
            time(11),
        ]


class TestGroupSessionSeatsInTheView:
    def test_seats_left_count_down_to_limited_then_booked(self) -> None:
        calendars: Calendars = {}
        assert view(YOGA, (CARL,), calendars)[time(9)].seats_left == 3
        book(calendars, CARL, at(9), service=YOGA, seats=2)
        almost = view(YOGA, (CARL,), calendars)[time(9)]
        assert (almost.status, almost.seats_left) == (SlotStatus.LIMITED, 1)
        book(calendars, CARL, at(9), service=YOGA, seats=1)
        full = view(YOGA, (CARL,), calendars)[time(9)]
        assert (full.status, full.seats_left) == (SlotStatus.BOOKED, 0)


class TestDstDayViews:
    def test_afternoon_slots_on_the_spring_change_day_start_at_local_times(self) -> None:
        athens_staff = replace(ANNA, tz=ATHENS, weekly=WeeklyHours.every_day((time(13), time(15))))
        spring = date(2025, 3, 30)
        slots = day_slots(
            MASSAGE, spring, [athens_staff], {}, datetime(2025, 3, 1, tzinfo=UTC), ATHENS
        )
        assert [s.start for s in slots] == [
            datetime(2025, 3, 30, 10, tzinfo=UTC),
            datetime(2025, 3, 30, 11, tzinfo=UTC),
        ]
        assert [s.start.astimezone(ATHENS).time() for s in slots] == [time(13), time(14)]


def free(hour: int, day: date = DAY) -> SlotView:
    return SlotView(at(hour, day=day), at(hour + 1, day=day), SlotStatus.AVAILABLE, 1, None, 1)


def booked(hour: int, day: date = DAY) -> SlotView:
    return SlotView(at(hour, day=day), at(hour + 1, day=day), SlotStatus.BOOKED, 0, None, 0)


class TestNearestAlternatives:
    TOMORROW = DAY + timedelta(days=1)

    def slots_by_day(self, **days: list[SlotView]) -> dict[date, list[SlotView]]:
        return {DAY: days.get("today", []), self.TOMORROW: days.get("tomorrow", [])}

    def test_the_same_day_comes_first_nearest_to_the_requested_time(self) -> None:
        # Given a day with 9, 11, 14 and 15 free and 10 and 12 booked
        today = [free(9), booked(10), free(11), booked(12), free(14), free(15)]
        slots = self.slots_by_day(today=today, tomorrow=[free(9)])
        # When 12:00 is requested
        offered = nearest_alternatives(at(12), UTC_ZONE, lambda d: slots.get(d, []), DAY, 3)
        # Then the nearest free slots that day are offered; 9 beats 15 on a tie
        assert [s.start for s in offered] == [at(11), at(14), at(9)]

    def test_following_days_fill_up_with_their_earliest_slots(self) -> None:
        slots = self.slots_by_day(
            today=[booked(9), free(10)],
            tomorrow=[booked(9, self.TOMORROW), free(10, self.TOMORROW), free(11, self.TOMORROW)],
        )
        offered = nearest_alternatives(
            at(9), UTC_ZONE, lambda d: slots.get(d, []), self.TOMORROW, 3
        )
        assert [s.start for s in offered] == [
            at(10),
            at(10, day=self.TOMORROW),
            at(11, day=self.TOMORROW),
        ]

    def test_nothing_beyond_the_horizon_is_offered(self) -> None:
        slots = self.slots_by_day(today=[booked(9)], tomorrow=[free(10, self.TOMORROW)])
        asked: list[date] = []

        def slots_on(day: date) -> list[SlotView]:
            asked.append(day)
            return slots.get(day, [])

        assert nearest_alternatives(at(9), UTC_ZONE, slots_on, DAY, 3) == []
        assert asked == [DAY]


class TestNearbyFirst:
    """A refusal looks at the two hours around the refused start before the whole day:
    the same offers, for a fraction of the day's work when the hours nearby have them."""

    TOMORROW = DAY + timedelta(days=1)

    @staticmethod
    def quarter(n: int, free_: bool, day: date = DAY) -> SlotView:
        start = datetime.combine(day, time(0), tzinfo=UTC) + timedelta(minutes=15 * n)
        status = SlotStatus.AVAILABLE if free_ else SlotStatus.BOOKED
        return SlotView(start, start + timedelta(hours=1), status, int(free_), None, int(free_))

    @given(
        st.lists(st.booleans(), min_size=96, max_size=96),
        st.lists(st.booleans(), min_size=96, max_size=96),
        st.integers(0, 95),
    )
    def test_the_offers_are_those_the_whole_day_gives(
        self, today: list[bool], tomorrow: list[bool], requested: int
    ) -> None:
        days = {
            DAY: [self.quarter(n, f) for n, f in enumerate(today)],
            self.TOMORROW: [self.quarter(n, f, self.TOMORROW) for n, f in enumerate(tomorrow)],
        }

        def slots_on(day: date) -> list[SlotView]:
            return days.get(day, [])

        def slots_near(day: date, around: Interval) -> list[SlotView]:
            return [s for s in days.get(day, []) if around.contains(s.start)]

        start = self.quarter(requested, True).start
        whole = nearest_alternatives(start, UTC_ZONE, slots_on, self.TOMORROW, 3)
        nearby = nearest_alternatives(
            start, UTC_ZONE, slots_on, self.TOMORROW, 3, slots_near=slots_near
        )
        assert nearby == whole

    @pytest.mark.parametrize(
        ("today", "offers", "asked"),
        [  # 12:00 refused; the hours nearby are 10:00 up to (not including) 14:00
            ([free(9), free(10), free(11), booked(12), free(13), free(14)], [11, 13, 10], ["near"]),
            (
                [free(9), booked(10), free(11), booked(12), free(13), free(14)],
                [11, 13, 14],
                ["near", "day"],
            ),
        ],
    )
    def test_the_whole_day_is_worked_out_only_when_the_hours_nearby_fall_short(
        self, today: list[SlotView], offers: list[int], asked: list[str]
    ) -> None:
        worked_out: list[str] = []

        def slots_on(day: date) -> list[SlotView]:
            worked_out.append("day")
            return today

        def slots_near(day: date, around: Interval) -> list[SlotView]:
            worked_out.append("near")
            return [s for s in today if around.contains(s.start)]

        offered = nearest_alternatives(at(12), UTC_ZONE, slots_on, DAY, 3, slots_near=slots_near)
        assert [s.start for s in offered] == [at(hour) for hour in offers]
        assert worked_out == asked


def room(number: int, *tags: str) -> ResourceState:
    return replace(staff(number, *tags), kind=ResourceKind.ROOM)


class TestCountingWithoutSearch:
    """The live view counts side-by-side bookings without a search when no resource can
    serve two requirements; it must say exactly what the search says."""

    @pytest.mark.parametrize("seed", range(12))
    def test_the_count_equals_the_searchs_on_random_clinics(
        self, seed: int, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        chance = random.Random(seed)
        therapists = [staff(n, "massage") for n in range(1, chance.randint(1, 6))]
        rooms = [room(n, "massage") for n in range(50, 50 + chance.randint(1, 5))]
        pair = replace(
            MASSAGE,
            service_id=UUID(int=102),
            requirements=(
                Requirement(ResourceKind.STAFF, frozenset({"massage"}), count=chance.randint(1, 2)),
                Requirement(ResourceKind.ROOM, frozenset({"massage"})),
            ),
        )
        calendars: Calendars = {}
        for who in therapists + rooms:
            for hour in (9, 10, 11):
                if chance.random() < 0.4:
                    book(calendars, who, at(hour))
        resources = therapists + rooms
        counted = day_slots(pair, DAY, resources, calendars, NOW, UTC_ZONE)
        monkeypatch.setattr(slot_rules, "side_by_side", lambda service, found: None)
        searched = day_slots(pair, DAY, resources, calendars, NOW, UTC_ZONE)
        assert counted == searched

    def test_pools_that_overlap_are_searched(self) -> None:
        flexible = replace(
            MASSAGE,
            requirements=(
                Requirement(ResourceKind.STAFF, frozenset({"massage"})),
                Requirement(ResourceKind.STAFF, frozenset({"massage"})),
            ),
        )
        slots = view(flexible, resources=(ANNA, BOB, staff(4, "massage")))
        assert slots[time(9)].alternatives == 1  # three therapists: one pair, not 3 // 1
