"""Hold: a booking request's time-limited claim, and the transitions it allows."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from slotline.availability.domain.hold import (
    Hold,
    HoldAsk,
    HoldExpired,
    HoldStatus,
    InvalidTransition,
)
from slotline.availability.domain.values import Interval

pytestmark = pytest.mark.unit

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
EXPIRES = NOW + timedelta(minutes=10)
SLOT = Interval(datetime(2025, 6, 2, 10, tzinfo=UTC), datetime(2025, 6, 2, 11, tzinfo=UTC))
TENANT = "tenant-1"


def placed(hold_key: str = "req-1") -> Hold:
    ask = HoldAsk(
        tenant_id=TENANT, hold_key=hold_key, service_id=uuid4(), location_id=uuid4(), slot=SLOT
    )
    return Hold.place(ask, resource_ids=[uuid4(), uuid4()], seats=1, expires_at=EXPIRES)


def kinds(hold: Hold) -> list[type[object]]:
    return [type(e) for e in hold.collect_events()]


class TestPlacingAHold:
    def test_a_placed_hold_is_held_until_it_expires(self) -> None:
        hold = placed()
        assert hold.status is HoldStatus.HELD
        assert hold.is_active(NOW)
        assert not hold.is_active(EXPIRES)
        assert kinds(hold) == [Hold.Placed]

    def test_the_id_is_derived_from_the_booking_request(self) -> None:
        # A retried BookingRequested finds the hold it already placed
        assert placed("req-1").id == placed("req-1").id == Hold.create_id(TENANT, "req-1")
        assert placed("req-1").id != placed("req-2").id


class TestConfirmingAHold:
    def test_confirming_in_time_makes_it_permanent(self) -> None:
        hold = placed()
        hold.confirm(NOW)
        assert hold.status is HoldStatus.CONFIRMED
        assert hold.expires_at is None
        assert hold.is_active(NOW + timedelta(days=30))

    def test_confirming_an_expired_hold_is_refused(self) -> None:
        # Given a hold whose time ran out, not yet swept
        hold = placed()
        # When its confirmation arrives at the expiry instant
        # Then it is refused
        with pytest.raises(HoldExpired):
            hold.confirm(EXPIRES)

    def test_confirming_a_hold_marked_expired_is_refused(self) -> None:
        hold = placed()
        hold.expire(EXPIRES)
        with pytest.raises(HoldExpired):
            hold.confirm(NOW)

    def test_confirming_twice_is_a_no_op(self) -> None:
        hold = placed()
        hold.confirm(NOW)
        hold.confirm(EXPIRES + timedelta(hours=1))
        assert kinds(hold) == [Hold.Placed, Hold.Confirmed]

    def test_a_released_hold_cannot_be_confirmed(self) -> None:
        hold = placed()
        hold.release()
        with pytest.raises(InvalidTransition, match="cannot confirm"):
            hold.confirm(NOW)


class TestReleasingAndCancelling:
    def test_releasing_a_held_hold_frees_it(self) -> None:
        hold = placed()
        hold.release("payment failed")
        hold.release("duplicate")
        assert hold.status is HoldStatus.RELEASED
        assert kinds(hold) == [Hold.Placed, Hold.Released]

    def test_releasing_a_confirmed_hold_is_not_allowed(self) -> None:
        hold = placed()
        hold.confirm(NOW)
        with pytest.raises(InvalidTransition, match="cancel a confirmed booking instead"):
            hold.release()

    def test_cancelling_a_confirmed_booking(self) -> None:
        hold = placed()
        hold.confirm(NOW)
        hold.cancel("customer asked")
        hold.cancel("customer asked again")
        assert hold.status is HoldStatus.CANCELLED
        assert kinds(hold) == [Hold.Placed, Hold.Confirmed, Hold.Cancelled]

    def test_cancelling_an_unconfirmed_hold_is_not_allowed(self) -> None:
        with pytest.raises(InvalidTransition, match="release an unconfirmed hold instead"):
            placed().cancel()


class TestExpiringAHold:
    def test_a_held_hold_expires_when_its_time_is_up(self) -> None:
        hold = placed()
        hold.expire(EXPIRES)
        assert hold.status is HoldStatus.EXPIRED
        hold.release()  # a late release of an expired hold changes nothing
        assert kinds(hold) == [Hold.Placed, Hold.Expired]

    def test_expiring_too_early_is_refused(self) -> None:
        with pytest.raises(InvalidTransition, match="runs until"):
            placed().expire(NOW)

    def test_a_late_expiry_timer_leaves_a_confirmed_hold_alone(self) -> None:
        hold = placed()
        hold.confirm(NOW)
        hold.expire(EXPIRES)
        assert hold.status is HoldStatus.CONFIRMED


class TestReschedulingKeepsTheId:
    LATER_SLOT = Interval(SLOT.start + timedelta(days=1), SLOT.end + timedelta(days=1))

    def test_a_confirmed_booking_moves_and_keeps_its_id(self) -> None:
        # Given a confirmed booking
        hold = placed()
        hold.confirm(NOW)
        original_id = hold.id
        new_resources = [uuid4()]
        # When it is rescheduled to the next day with another therapist
        hold.reschedule(self.LATER_SLOT, new_resources, NOW)
        # Then it is the same booking, still confirmed, at the new slot
        assert hold.id == original_id
        assert hold.status is HoldStatus.CONFIRMED
        assert hold.slot == self.LATER_SLOT
        assert hold.resource_ids == tuple(new_resources)
        assert kinds(hold)[-1] == Hold.Rescheduled

    def test_a_held_hold_keeps_its_expiry_unless_given_a_new_one(self) -> None:
        hold = placed()
        hold.reschedule(self.LATER_SLOT, [uuid4()], NOW)
        assert hold.expires_at == EXPIRES
        hold.reschedule(SLOT, [uuid4()], NOW, expires_at=EXPIRES + timedelta(minutes=5))
        assert hold.expires_at == EXPIRES + timedelta(minutes=5)

    def test_an_expired_hold_cannot_be_rescheduled(self) -> None:
        with pytest.raises(HoldExpired):
            placed().reschedule(self.LATER_SLOT, [uuid4()], EXPIRES)

    def test_a_cancelled_booking_cannot_be_rescheduled(self) -> None:
        hold = placed()
        hold.confirm(NOW)
        hold.cancel()
        with pytest.raises(InvalidTransition, match="cannot reschedule"):
            hold.reschedule(self.LATER_SLOT, [uuid4()], NOW)
