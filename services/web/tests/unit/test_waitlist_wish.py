"""What a customer asks of the waitlist beside their details: times written as a phone's
time input or a person writes them, a range the right way round, a day not gone by —
and booking's field errors named on the booking form's own contact fields."""

from __future__ import annotations

from datetime import date

import pytest

from slotline.web.domain.details import Details
from slotline.web.domain.waitlist import Wish, local_time

pytestmark = pytest.mark.unit

DAY = date(2026, 12, 9)


class TestTheTimesThatSuit:
    @pytest.mark.parametrize(
        ("written", "read"),
        [("9:30", "09:30"), ("09:30", "09:30"), ("09:30:00", "09:30"), ("18.15", "18:15")],
    )
    def test_a_time_is_read_as_hours_and_minutes(self, written: str, read: str) -> None:
        assert local_time(written) == read

    @pytest.mark.parametrize("written", ["24:00", "9", "half past nine", "09:60"])
    def test_what_is_no_time_of_day_is_named_on_its_field(self, written: str) -> None:
        wish = Wish.of(DAY, {"earliest": written})
        assert not wish.check(DAY)
        assert wish.errors == {"earliest": "time_invalid"}

    def test_until_before_from_is_named_on_until(self) -> None:
        wish = Wish.of(DAY, {"earliest": "12:00", "latest": "9:00"})
        assert not wish.check(DAY)
        assert wish.errors == {"latest": "range_reversed"}

    def test_no_times_is_any_time_and_sends_only_the_day(self) -> None:
        wish = Wish.of(DAY, {})
        assert wish.check(DAY)
        assert wish.any_time
        assert wish.request() == {"day": "2026-12-09"}

    def test_a_range_and_a_staff_member_are_sent_as_booking_reads_them(self) -> None:
        wish = Wish.of(DAY, {"earliest": "9:00", "latest": "11:30", "staff_id": "st-1"})
        assert wish.check(DAY)
        assert wish.request() == {
            "day": "2026-12-09",
            "earliest": "09:00",
            "latest": "11:30",
            "staff_id": "st-1",
        }

    def test_a_day_gone_by_is_refused_and_a_staff_id_that_is_no_id_is_dropped(self) -> None:
        wish = Wish.of(DAY, {"staff_id": "<script>"})
        assert not wish.check(date(2026, 12, 10))
        assert wish.errors == {"day": "day_past"}
        assert wish.staff_id == ""


class TestBookingsRefusalOnTheContactFields:
    def test_each_known_field_is_named_and_the_others_are_handed_back(self) -> None:
        details = Details(name="Maria", phone="+30 12")
        others = details.refused(
            [{"field": "phone"}, {"field": "email"}, {"field": "earliest"}, {"field": "name"}]
        )
        assert details.errors == {
            "phone": "phone_invalid",
            "email": "email_invalid",
            "name": "check_field",
        }
        assert others == ["earliest"]
