"""Offer rules: the booking window and which starts a day can offer."""

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from slotline.availability.domain.rules import (
    RejectionReason,
    candidate_starts,
    check_booking_window,
    last_bookable_date,
)
from slotline.availability.domain.schedule import working_intervals
from slotline.availability.domain.values import (
    Interval,
    Requirement,
    ResourceKind,
    ServiceDefinition,
    WeeklyHours,
)

pytestmark = pytest.mark.unit

NOW = datetime(2025, 6, 2, 8, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")
STAFF = (Requirement(ResourceKind.STAFF),)


BASE = ServiceDefinition(
    service_id=uuid4(),
    duration=timedelta(minutes=60),
    requirements=STAFF,
    slot_interval=timedelta(minutes=30),
)


def service(**terms: Any) -> ServiceDefinition:
    return replace(BASE, **terms)


def at(hour: int, minute: int = 0, day: int = 2) -> datetime:
    return datetime(2025, 6, day, hour, minute, tzinfo=UTC)


class TestMinimumNotice:
    NOTICE = service(minimum_notice=timedelta(hours=2))

    def test_a_slot_sooner_than_the_notice_is_refused(self) -> None:
        reason = check_booking_window(self.NOTICE, NOW + timedelta(hours=1, minutes=59), NOW)
        assert reason is RejectionReason.TOO_SHORT_NOTICE

    def test_exactly_the_notice_is_enough(self) -> None:
        assert check_booking_window(self.NOTICE, NOW + timedelta(hours=2), NOW) is None

    def test_a_slot_in_the_past_is_too_short_notice(self) -> None:
        reason = check_booking_window(service(), NOW - timedelta(minutes=1), NOW)
        assert reason is RejectionReason.TOO_SHORT_NOTICE


class TestBookingHorizon:
    HORIZON = service(booking_horizon=timedelta(days=30))

    def test_a_slot_beyond_the_horizon_is_refused(self) -> None:
        reason = check_booking_window(self.HORIZON, NOW + timedelta(days=30, minutes=1), NOW)
        assert reason is RejectionReason.BEYOND_HORIZON

    def test_the_last_instant_of_the_horizon_is_bookable(self) -> None:
        assert check_booking_window(self.HORIZON, NOW + timedelta(days=30), NOW) is None

    def test_the_last_bookable_date_is_where_the_horizon_ends_locally(self) -> None:
        athens = ZoneInfo("Europe/Athens")
        late_evening = datetime(2025, 6, 2, 22, tzinfo=UTC)  # already 3 June in Athens
        assert last_bookable_date(self.HORIZON, late_evening, athens) == date(2025, 7, 3)


class TestCandidateStarts:
    DAY = date(2025, 6, 2)

    def test_starts_step_by_the_slot_interval_from_the_start_of_work(self) -> None:
        working = [Interval(at(9), at(12))]
        assert candidate_starts(service(), working, UTC_ZONE, self.DAY) == [
            at(9),
            at(9, 30),
            at(10),
            at(10, 30),
            at(11),
        ]

    def test_the_padded_slot_must_fit_within_working_hours(self) -> None:
        # Given a 15-minute buffer on each side of a 60-minute service
        padded = service(buffer_before=timedelta(minutes=15), buffer_after=timedelta(minutes=15))
        # When the resource works 9:00-12:00
        starts = candidate_starts(padded, [Interval(at(9), at(12))], UTC_ZONE, self.DAY)
        # Then neither 9:00 (buffer before) nor 11:00 (buffer after) is offered
        assert starts == [at(9, 30), at(10), at(10, 30)]

    def test_each_working_interval_aligns_on_its_own_start(self) -> None:
        working = [Interval(at(9), at(10)), Interval(at(13, 15), at(14, 45))]
        assert candidate_starts(service(), working, UTC_ZONE, self.DAY) == [
            at(9),
            at(13, 15),
            at(13, 45),
        ]

    def test_only_starts_on_the_requested_local_date_are_kept(self) -> None:
        # A shift 22:00-02:00 offers starts until 01:00 next day, but only 22:00-23:30 today
        working = [Interval(at(22), at(2, day=3))]
        starts = candidate_starts(service(), working, UTC_ZONE, self.DAY)
        assert starts == [at(22), at(22, 30), at(23), at(23, 30)]

    def test_afternoon_starts_on_a_dst_day_are_local_afternoon_times(self) -> None:
        athens = ZoneInfo("Europe/Athens")
        spring = date(2025, 3, 30)
        weekly = WeeklyHours.every_day((time(13), time(15)))
        working = working_intervals(weekly, (), (), athens, spring)
        starts = candidate_starts(service(), working, athens, spring)
        assert [s.astimezone(athens).time() for s in starts] == [time(13), time(13, 30), time(14)]
