"""Working time: local hours become UTC intervals, with overrides, time off and DST."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from slotline.availability.domain.schedule import (
    dates_touched,
    local_day,
    local_to_utc,
    working_intervals,
)
from slotline.availability.domain.values import (
    DateOverride,
    Interval,
    TimeOff,
    WeeklyHours,
)

pytestmark = pytest.mark.unit

ATHENS = ZoneInfo("Europe/Athens")
NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")

ATHENS_SPRING = date(2025, 3, 30)  # last Sunday of March: 03:00 → 04:00
ATHENS_AUTUMN = date(2025, 10, 26)  # last Sunday of October: 04:00 → 03:00
NY_SPRING = date(2025, 3, 9)  # second Sunday of March: 02:00 → 03:00
NY_AUTUMN = date(2025, 11, 2)  # first Sunday of November: 02:00 → 01:00

AFTERNOON = WeeklyHours.every_day((time(13), time(21)))
ACROSS_THE_CHANGE = WeeklyHours.every_day((time(1), time(5)))


def utc(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def hours(weekly: WeeklyHours, tz: ZoneInfo, day: date) -> list[Interval]:
    return working_intervals(weekly, (), (), tz, day)


class TestWeeklyHoursOverridesAndTimeOff:
    MONDAY = date(2025, 6, 2)
    WEEKDAYS = WeeklyHours.of({0: [(time(9), time(12)), (time(13), time(17))]})

    def test_weekly_ranges_become_utc_intervals_in_the_location_zone(self) -> None:
        assert hours(self.WEEKDAYS, BERLIN, self.MONDAY) == [
            Interval(utc(2025, 6, 2, 7), utc(2025, 6, 2, 10)),
            Interval(utc(2025, 6, 2, 11), utc(2025, 6, 2, 15)),
        ]

    def test_a_weekday_without_ranges_is_closed(self) -> None:
        assert hours(self.WEEKDAYS, BERLIN, self.MONDAY + timedelta(days=1)) == []

    def test_a_closure_override_closes_the_day(self) -> None:
        # Given a holiday on a working Monday
        holiday = DateOverride(self.MONDAY)
        # When the day's working time is computed
        worked = working_intervals(self.WEEKDAYS, [holiday], (), BERLIN, self.MONDAY)
        # Then there is none
        assert worked == []

    def test_extra_hours_replace_the_weekly_hours_for_that_date_only(self) -> None:
        saturday = date(2025, 6, 7)
        extra = DateOverride(saturday, ((time(10), time(14)),))
        assert working_intervals(self.WEEKDAYS, [extra], (), BERLIN, saturday) == [
            Interval(utc(2025, 6, 7, 8), utc(2025, 6, 7, 12))
        ]
        assert working_intervals(self.WEEKDAYS, [extra], (), BERLIN, self.MONDAY) == hours(
            self.WEEKDAYS, BERLIN, self.MONDAY
        )

    def test_time_off_is_cut_out_of_the_working_time(self) -> None:
        # Given a dentist appointment 10:00-11:00 local on a 09:00-12:00 morning
        dentist = TimeOff(Interval(utc(2025, 6, 2, 8), utc(2025, 6, 2, 9)))
        # When the day's working time is computed
        worked = working_intervals(self.WEEKDAYS, (), [dentist], BERLIN, self.MONDAY)
        # Then the morning is split around it
        assert worked == [
            Interval(utc(2025, 6, 2, 7), utc(2025, 6, 2, 8)),
            Interval(utc(2025, 6, 2, 9), utc(2025, 6, 2, 10)),
            Interval(utc(2025, 6, 2, 11), utc(2025, 6, 2, 15)),
        ]

    def test_midnight_as_an_end_means_the_end_of_the_day(self) -> None:
        late = WeeklyHours.every_day((time(18), time(0)))
        assert hours(late, BERLIN, self.MONDAY) == [
            Interval(utc(2025, 6, 2, 16), utc(2025, 6, 2, 22))
        ]


class TestDstAfternoonHoursUseTheOffsetOfTheAfternoon:
    """Hours from 13:00 on a change day: the offset is the afternoon's, not midnight's."""

    @pytest.mark.parametrize(
        ("tz", "day", "expected"),
        [
            (ATHENS, ATHENS_SPRING, (utc(2025, 3, 30, 10), utc(2025, 3, 30, 18))),  # UTC+3
            (ATHENS, ATHENS_AUTUMN, (utc(2025, 10, 26, 11), utc(2025, 10, 26, 19))),  # UTC+2
            (NEW_YORK, NY_SPRING, (utc(2025, 3, 9, 17), utc(2025, 3, 10, 1))),  # UTC-4
            (NEW_YORK, NY_AUTUMN, (utc(2025, 11, 2, 18), utc(2025, 11, 3, 2))),  # UTC-5
        ],
        ids=["athens-spring", "athens-autumn", "new-york-spring", "new-york-autumn"],
    )
    def test_13_to_21_on_a_change_day(
        self, tz: ZoneInfo, day: date, expected: tuple[datetime, datetime]
    ) -> None:
        # Given hours 13:00-21:00 every day
        # When the working time of a DST change day is computed
        worked = hours(AFTERNOON, tz, day)
        # Then it is eight hours at the afternoon's offset
        assert worked == [Interval(*expected)]
        assert worked[0].duration == timedelta(hours=8)


class TestDstHoursSpanningTheChange:
    @pytest.mark.parametrize(
        ("tz", "day", "expected", "length"),
        [
            (ATHENS, ATHENS_SPRING, (utc(2025, 3, 29, 23), utc(2025, 3, 30, 2)), 3),
            (ATHENS, ATHENS_AUTUMN, (utc(2025, 10, 25, 22), utc(2025, 10, 26, 3)), 5),
            (NEW_YORK, NY_SPRING, (utc(2025, 3, 9, 6), utc(2025, 3, 9, 9)), 3),
            (NEW_YORK, NY_AUTUMN, (utc(2025, 11, 2, 5), utc(2025, 11, 2, 10)), 5),
        ],
        ids=["athens-spring", "athens-autumn", "new-york-spring", "new-york-autumn"],
    )
    def test_01_to_05_lasts_as_long_as_the_clocks_say(
        self, tz: ZoneInfo, day: date, expected: tuple[datetime, datetime], length: int
    ) -> None:
        # Given hours 01:00-05:00, which the clock change falls inside
        worked = hours(ACROSS_THE_CHANGE, tz, day)
        # Then an hour is lost in spring and gained in autumn
        assert worked == [Interval(*expected)]
        assert worked[0].duration == timedelta(hours=length)


class TestDstNonexistentAndAmbiguousLocalTimes:
    def test_a_time_in_the_spring_gap_moves_to_the_first_existing_instant(self) -> None:
        # 03:30 does not exist in Athens on 30 March: clocks jump 03:00 → 04:00 (01:00 UTC)
        assert local_to_utc(ATHENS_SPRING, time(3, 30), ATHENS) == utc(2025, 3, 30, 1)
        # 02:30 does not exist in New York on 9 March: clocks jump 02:00 → 03:00 (07:00 UTC)
        assert local_to_utc(NY_SPRING, time(2, 30), NEW_YORK) == utc(2025, 3, 9, 7)

    def test_an_ambiguous_time_in_autumn_is_its_first_occurrence(self) -> None:
        # 03:30 happens twice in Athens on 26 October; the first is still at UTC+3
        assert local_to_utc(ATHENS_AUTUMN, time(3, 30), ATHENS) == utc(2025, 10, 26, 0, 30)
        # 01:30 happens twice in New York on 2 November; the first is still at UTC-4
        assert local_to_utc(NY_AUTUMN, time(1, 30), NEW_YORK) == utc(2025, 11, 2, 5, 30)

    def test_hours_entirely_inside_the_gap_give_no_working_time(self) -> None:
        in_the_gap = WeeklyHours.every_day((time(3), time(3, 45)))
        assert hours(in_the_gap, ATHENS, ATHENS_SPRING) == []

    def test_hours_starting_in_the_gap_start_when_the_clocks_jump(self) -> None:
        from_the_gap = WeeklyHours.every_day((time(2, 30), time(6)))
        assert hours(from_the_gap, NEW_YORK, NY_SPRING) == [
            Interval(utc(2025, 3, 9, 7), utc(2025, 3, 9, 10))
        ]


class TestLocalDays:
    def test_change_days_last_23_and_25_hours(self) -> None:
        assert local_day(ATHENS_SPRING, ATHENS).duration == timedelta(hours=23)
        assert local_day(ATHENS_AUTUMN, ATHENS).duration == timedelta(hours=25)
        assert local_day(NY_SPRING, NEW_YORK).duration == timedelta(hours=23)
        assert local_day(NY_AUTUMN, NEW_YORK).duration == timedelta(hours=25)

    def test_an_interval_crossing_local_midnight_touches_two_dates(self) -> None:
        # 23:30-00:45 Berlin summer time
        crossing = Interval(utc(2025, 6, 2, 21, 30), utc(2025, 6, 2, 22, 45))
        assert dates_touched(crossing, BERLIN) == [date(2025, 6, 2), date(2025, 6, 3)]

    def test_an_interval_ending_at_local_midnight_touches_one_date(self) -> None:
        until_midnight = Interval(utc(2025, 6, 2, 21), utc(2025, 6, 2, 22))
        assert dates_touched(until_midnight, BERLIN) == [date(2025, 6, 2)]
