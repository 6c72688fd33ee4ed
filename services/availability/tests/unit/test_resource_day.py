"""ResourceDay: no two live bookings of one resource overlap, buffers included."""

import contextlib
import copy
import random
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from slotline.availability.domain.calendar import (
    EntryLapsed,
    Reservation,
    ResourceDay,
    UnknownEntry,
)
from slotline.availability.domain.entries import DailyLimitReached, EntryStatus, SlotTaken
from slotline.availability.domain.values import Interval

pytestmark = pytest.mark.unit

DAY = date(2025, 6, 2)
NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
LATER = NOW + timedelta(minutes=10)
MASSAGE, YOGA = uuid4(), uuid4()


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 6, 2, hour, minute, tzinfo=UTC)


def slot(start: datetime, minutes: int = 60) -> Interval:
    return Interval(start, start + timedelta(minutes=minutes))


def reserve(
    day: ResourceDay,
    start: datetime,
    *,
    minutes: int = 60,
    buffer_after: int = 0,
    service: UUID = MASSAGE,
    capacity: int = 1,
    seats: int = 1,
    now: datetime = NOW,
    max_per_day: int | None = None,
    hold_id: UUID | None = None,
) -> UUID:
    hold_id = hold_id or uuid4()
    booked = slot(start, minutes)
    occupied = booked.padded(timedelta(0), timedelta(minutes=buffer_after))
    expires_at = now + timedelta(minutes=5)
    day.reserve(
        Reservation(hold_id, booked, occupied, service, capacity, seats, expires_at),
        now,
        max_per_day=max_per_day,
    )
    return hold_id


@pytest.fixture
def day() -> ResourceDay:
    return ResourceDay.open(uuid4(), DAY)


class TestNoOverlapIncludingBuffers:
    def test_a_buffer_after_blocks_the_next_fifteen_minutes(self, day: ResourceDay) -> None:
        # Given a 60-minute massage at 10:00 with a 15-minute clean-up after it
        reserve(day, at(10), buffer_after=15)
        # When someone wants 11:00
        # Then the slot is taken, and the conflict names the padded interval
        with pytest.raises(SlotTaken) as taken:
            reserve(day, at(11))
        assert taken.value.conflict == Interval(at(10), at(11, 15))
        assert not taken.value.full

    def test_the_slot_after_the_buffer_is_free(self, day: ResourceDay) -> None:
        reserve(day, at(10), buffer_after=15)
        reserve(day, at(11, 15))
        assert len(day.live_entries(NOW)) == 2

    def test_back_to_back_without_buffers_is_allowed(self, day: ResourceDay) -> None:
        reserve(day, at(10))
        reserve(day, at(11))
        reserve(day, at(9))
        assert [e.slot.start for e in day.live_entries(NOW)] == [at(9), at(10), at(11)]

    def test_a_booking_inside_another_is_refused(self, day: ResourceDay) -> None:
        reserve(day, at(10), minutes=120)
        with pytest.raises(SlotTaken):
            reserve(day, at(10, 30), minutes=30)

    def test_is_free_answers_without_changing_anything(self, day: ResourceDay) -> None:
        reserve(day, at(10))
        assert not day.is_free(slot(at(10, 30)), NOW)
        assert day.is_free(slot(at(11)), NOW)
        assert isinstance(day.collect_events()[-1], ResourceDay.Reserved)


class TestLazyExpiry:
    def test_an_expired_hold_no_longer_blocks_the_slot(self, day: ResourceDay) -> None:
        # Given a hold at 10:00 that expires five minutes after it was placed
        reserve(day, at(10))
        # When another request comes after it expired, before any sweep
        reserve(day, at(10), now=LATER)
        # Then it gets the slot; the stale entry is no longer live
        assert len(day.live_entries(LATER)) == 1

    def test_a_hold_blocks_until_the_instant_it_expires(self, day: ResourceDay) -> None:
        reserve(day, at(10))
        with pytest.raises(SlotTaken):
            reserve(day, at(10), now=NOW + timedelta(minutes=4, seconds=59))
        reserve(day, at(10), now=NOW + timedelta(minutes=5))

    def test_expire_removes_lapsed_holds_and_keeps_allocations(self, day: ResourceDay) -> None:
        lapsing = reserve(day, at(9))
        confirmed = reserve(day, at(10))
        day.allocate(confirmed, NOW)
        assert day.expire(LATER) == [lapsing]
        assert list(day.entries) == [confirmed]

    def test_a_lapsed_hold_cannot_be_allocated(self, day: ResourceDay) -> None:
        # Given a hold that lapsed and whose time someone else then took
        lapsed = reserve(day, at(10))
        reserve(day, at(10), now=LATER)
        # When the late confirmation arrives
        # Then it is refused: reviving it would double-book the resource
        with pytest.raises(EntryLapsed):
            day.allocate(lapsed, LATER)

    def test_an_allocation_never_expires(self, day: ResourceDay) -> None:
        hold_id = reserve(day, at(10))
        day.allocate(hold_id, NOW)
        with pytest.raises(SlotTaken):
            reserve(day, at(10), now=NOW + timedelta(days=1))


class TestGroupSessionSeats:
    def test_seats_are_shared_up_to_capacity_then_full(self, day: ResourceDay) -> None:
        # Given a yoga class at 18:00 for 3 people
        reserve(day, at(18), service=YOGA, capacity=3, seats=2)
        reserve(day, at(18), service=YOGA, capacity=3, seats=1)
        # When a fourth person asks
        with pytest.raises(SlotTaken) as full:
            reserve(day, at(18), service=YOGA, capacity=3, seats=1)
        # Then the session is full
        assert full.value.full

    def test_asking_for_more_seats_than_remain_is_full(self, day: ResourceDay) -> None:
        reserve(day, at(18), service=YOGA, capacity=3, seats=2)
        with pytest.raises(SlotTaken, match="full"):
            reserve(day, at(18), service=YOGA, capacity=3, seats=2)

    def test_a_different_start_of_the_same_class_is_an_overlap(self, day: ResourceDay) -> None:
        reserve(day, at(18), service=YOGA, capacity=3)
        with pytest.raises(SlotTaken) as taken:
            reserve(day, at(18, 30), service=YOGA, capacity=3)
        assert not taken.value.full

    def test_another_service_cannot_share_the_session(self, day: ResourceDay) -> None:
        reserve(day, at(18), service=YOGA, capacity=3)
        with pytest.raises(SlotTaken):
            reserve(day, at(18), service=MASSAGE, capacity=3)

    def test_one_to_one_services_never_share(self, day: ResourceDay) -> None:
        reserve(day, at(18))
        with pytest.raises(SlotTaken):
            reserve(day, at(18))

    def test_seats_of_expired_holds_are_free_again(self, day: ResourceDay) -> None:
        reserve(day, at(18), service=YOGA, capacity=2, seats=2)
        reserve(day, at(18), service=YOGA, capacity=2, seats=2, now=LATER)


class TestDailyLimitPerResource:
    def test_the_limit_refuses_one_booking_too_many(self, day: ResourceDay) -> None:
        reserve(day, at(9), max_per_day=2)
        reserve(day, at(10), max_per_day=2)
        with pytest.raises(DailyLimitReached):
            reserve(day, at(11), max_per_day=2)

    def test_other_services_do_not_count(self, day: ResourceDay) -> None:
        reserve(day, at(9), service=YOGA)
        reserve(day, at(10), max_per_day=1)

    def test_joining_a_group_session_is_not_another_booking(self, day: ResourceDay) -> None:
        reserve(day, at(18), service=YOGA, capacity=5, max_per_day=1)
        reserve(day, at(18), service=YOGA, capacity=5, max_per_day=1)
        with pytest.raises(DailyLimitReached):
            reserve(day, at(20), service=YOGA, capacity=5, max_per_day=1)

    def test_expired_holds_do_not_count(self, day: ResourceDay) -> None:
        reserve(day, at(9), max_per_day=1)
        reserve(day, at(10), max_per_day=1, now=LATER)


class TestCommandsAreIdempotent:
    def test_reserving_the_same_hold_again_changes_nothing(self, day: ResourceDay) -> None:
        hold_id = reserve(day, at(10))
        reserve(day, at(10), hold_id=hold_id)
        assert len(day.collect_events()) == 2  # Opened, Reserved

    def test_allocating_twice_records_one_allocation(self, day: ResourceDay) -> None:
        hold_id = reserve(day, at(10))
        day.allocate(hold_id, NOW)
        day.allocate(hold_id, LATER)
        assert day.entries[hold_id].status is EntryStatus.ALLOCATED
        assert isinstance(day.collect_events()[-1], ResourceDay.Allocated)
        assert len(day.collect_events()) == 0

    def test_freeing_an_unknown_hold_is_a_no_op(self, day: ResourceDay) -> None:
        day.free(uuid4(), "released")
        assert len(day.collect_events()) == 1  # Opened

    def test_allocating_an_unknown_hold_is_an_error(self, day: ResourceDay) -> None:
        with pytest.raises(UnknownEntry):
            day.allocate(uuid4(), NOW)

    def test_freeing_gives_the_time_back(self, day: ResourceDay) -> None:
        hold_id = reserve(day, at(10))
        day.free(hold_id, "cancelled")
        reserve(day, at(10))


class TestResourceDayIdentity:
    def test_the_id_is_derived_from_resource_and_date(self) -> None:
        resource_id = uuid4()
        opened = ResourceDay.open(resource_id, DAY)
        assert opened.id == ResourceDay.create_id(resource_id, DAY)
        assert opened.id == ResourceDay.create_id(resource_id, "2025-06-02")
        assert opened.id != ResourceDay.create_id(resource_id, DAY + timedelta(days=1))


class TestInvariantUnderRandomCommands:
    """Without hypothesis installed: a seeded random walk of reserve/allocate/free/expire."""

    @pytest.mark.parametrize("seed", range(20))
    def test_live_entries_never_overlap_unless_they_share_a_session(self, seed: int) -> None:
        rng = random.Random(seed)
        day = ResourceDay.open(uuid4(), DAY)
        now = NOW
        for _ in range(200):
            now += timedelta(seconds=rng.randint(0, 120))
            action = rng.random()
            if action < 0.6:
                start = at(8) + timedelta(minutes=15 * rng.randint(0, 40))
                service, capacity = rng.choice([(MASSAGE, 1), (YOGA, 3)])
                with contextlib.suppress(SlotTaken):
                    reserve(
                        day,
                        start,
                        minutes=rng.choice([30, 45, 60]),
                        buffer_after=rng.choice([0, 15]),
                        service=service,
                        capacity=capacity,
                        seats=rng.randint(1, 2),
                        now=now,
                    )
            elif day.entries and action < 0.8:
                with contextlib.suppress(EntryLapsed):
                    day.allocate(rng.choice(list(day.entries)), now)
            elif day.entries and action < 0.9:
                day.free(rng.choice(list(day.entries)), "released")
            else:
                day.expire(now)
            live = day.live_entries(now)
            for i, first in enumerate(live):
                for second in live[i + 1 :]:
                    if first.occupied.overlaps(second.occupied):
                        assert first.capacity > 1
                        assert (first.service_id, first.slot) == (second.service_id, second.slot)
            sessions: dict[tuple[UUID, Interval], int] = {}
            for entry in live:
                key = (entry.service_id, entry.slot)
                sessions[key] = sessions.get(key, 0) + entry.seats
            assert all(seats <= 3 for seats in sessions.values())


class TestCopies:
    def test_a_copy_changes_apart_from_its_original(self, day: ResourceDay) -> None:
        first = reserve(day, at(10))
        day.collect_events()
        clone = copy.deepcopy(day)
        reserve(clone, at(14))
        clone.free(first, "released")
        assert list(day.entries) == [first]
        assert day.pending_events == []
        assert first not in clone.entries
        assert len(clone.entries) == 1
        assert len(clone.pending_events) == 2
