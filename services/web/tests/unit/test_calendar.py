"""The customer's calendar: days coloured by what is left, nearest times to a taken one."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from slotline.web.domain.calendar import Day, Slot, days, first_bookable, nearest, slots_from

pytestmark = pytest.mark.unit

ATHENS = ZoneInfo("Europe/Athens")
DAY = date(2026, 12, 7)


def slot(hour: int, minute: int = 0, status: str = "available", day: date = DAY) -> Slot:
    start = datetime(day.year, day.month, day.day, hour, minute, tzinfo=ATHENS)
    return Slot(start, start + timedelta(hours=1), status)


class TestDayColours:
    def test_a_day_with_nothing_offered_is_closed(self) -> None:
        assert Day(DAY, ()).status == "closed"

    def test_a_day_whose_slots_are_all_taken_is_booked(self) -> None:
        assert Day(DAY, (slot(9, status="booked"), slot(10, status="booked"))).status == "booked"

    def test_a_day_with_few_free_slots_is_limited(self) -> None:
        taken = tuple(slot(h, status="booked") for h in range(9, 15))
        assert Day(DAY, (*taken, slot(16), slot(17))).status == "limited"

    def test_a_day_with_many_free_slots_is_available(self) -> None:
        assert Day(DAY, tuple(slot(h) for h in range(9, 17))).status == "available"


def test_the_calendar_opens_on_the_first_day_with_a_free_slot() -> None:
    calendar = days([slot(9, status="booked"), slot(10, day=DAY + timedelta(days=2))], DAY, 5)
    assert [d.day for d in calendar] == [DAY + timedelta(days=n) for n in range(5)]
    opened = first_bookable(calendar)
    assert opened is not None
    assert opened.day == DAY + timedelta(days=2)


def test_the_nearest_free_times_surround_the_taken_one_soonest_first() -> None:
    free = [slot(9), slot(10, 30), slot(11, 15), slot(15), slot(11, status="booked")]
    wanted = slot(11).start
    assert [s.start.strftime("%H:%M") for s in nearest(free, wanted)] == ["09:00", "10:30", "11:15"]


def test_slot_rows_are_read_in_the_location_zone() -> None:
    rows = [
        {
            "start": "2026-12-07T08:00:00+00:00",
            "end": "2026-12-07T09:00:00+00:00",
            "status": "limited",
        }
    ]
    [read] = slots_from(rows, ATHENS)
    assert read.start.hour == 10
    assert read.free
