"""Intervals: the half-open time spans every availability rule is built on."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from slotline.availability.domain.values import Interval

pytestmark = pytest.mark.unit

DAY = datetime(2025, 6, 2, tzinfo=UTC)


def span(start_minute: int, end_minute: int) -> Interval:
    return Interval(DAY + timedelta(minutes=start_minute), DAY + timedelta(minutes=end_minute))


class TestIntervalsAreHalfOpen:
    def test_back_to_back_intervals_do_not_overlap(self) -> None:
        # Given a 9:00-10:00 booking
        first = span(540, 600)
        # When the next one starts exactly at 10:00
        second = span(600, 660)
        # Then they do not overlap, either way round
        assert not first.overlaps(second)
        assert not second.overlaps(first)

    def test_one_minute_of_shared_time_is_an_overlap(self) -> None:
        assert span(540, 601).overlaps(span(600, 660))

    def test_an_interval_inside_another_overlaps_it(self) -> None:
        assert span(540, 660).overlaps(span(570, 580))
        assert span(570, 580).overlaps(span(540, 660))

    def test_contains_an_interval_or_an_instant_before_its_end(self) -> None:
        whole = span(540, 600)
        assert whole.contains(span(540, 600))
        assert whole.contains(DAY + timedelta(minutes=540))
        assert not whole.contains(DAY + timedelta(minutes=600))
        assert not whole.contains(span(550, 601))


class TestPaddingWithBuffers:
    def test_padding_widens_both_ends(self) -> None:
        # Given a 10:00-11:00 slot
        slot = span(600, 660)
        # When padded with 10 minutes before and 15 after
        occupied = slot.padded(timedelta(minutes=10), timedelta(minutes=15))
        # Then it occupies 9:50-11:15
        assert occupied == span(590, 675)

    def test_buffer_after_blocks_the_next_fifteen_minutes(self) -> None:
        occupied = span(600, 660).padded(timedelta(0), timedelta(minutes=15))
        assert occupied.overlaps(span(660, 720))
        assert not occupied.overlaps(span(675, 735))


class TestIntervalsAreWellFormed:
    def test_start_must_come_before_end(self) -> None:
        with pytest.raises(ValueError, match="start before"):
            span(600, 600)

    def test_naive_datetimes_are_refused(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            Interval(datetime(2025, 6, 2, 9), datetime(2025, 6, 2, 10))

    def test_instants_are_normalised_to_utc(self) -> None:
        athens_summer = timezone(timedelta(hours=3))
        interval = Interval(
            datetime(2025, 6, 2, 12, tzinfo=athens_summer),
            datetime(2025, 6, 2, 13, tzinfo=athens_summer),
        )
        assert interval.start == datetime(2025, 6, 2, 9, tzinfo=UTC)
        assert interval.start.tzinfo is UTC

    def test_intersection_is_the_shared_part_or_none(self) -> None:
        assert span(540, 600).intersection(span(570, 660)) == span(570, 600)
        assert span(540, 600).intersection(span(600, 660)) is None
