"""The waitlist's rules: who is offered a freed slot, one offer per slot and per entry,
and an offer booking that waits for its claim (pure: no database, no broker)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from slotline.booking.domain.booking import Booking, BookingStatus, InvalidTransition
from slotline.booking.domain.policy import Policy
from slotline.booking.domain.waitlist import WaitlistLine
from slotline.booking.domain.waitlist_values import EntryStatus, FreedBy, NotInLine

from .test_booking import NOW, START, new_booking

pytestmark = pytest.mark.unit

DAY = date(2026, 12, 3)
NINE, TEN, ELEVEN = (datetime(2026, 12, 3, h, tzinfo=UTC) for h in (9, 10, 11))
WHOLE_DAY = (datetime(2026, 12, 3, tzinfo=UTC), datetime(2026, 12, 3, 23, 59, tzinfo=UTC))
CONSENTS = {"transactional": True, "marketing": False}


def line_with(*ranges: tuple[datetime, datetime]) -> tuple[WaitlistLine, list[str]]:
    line = WaitlistLine(tenant_id="t", service_id="s", location_id="l", day=DAY.isoformat())
    entries = [
        line.join(f"e{n}", f"c{n}", earliest, latest, None, CONSENTS, NOW)
        for n, (earliest, latest) in enumerate(ranges, start=1)
    ]
    return line, entries


def offer_all(line: WaitlistLine) -> list[str]:
    offered = []
    for match in line.matches():
        booking_id = str(uuid4())
        line.make_offer(match, booking_id)
        offered.append(booking_id)
    return offered


class TestWhoIsOffered:
    def test_a_freed_slot_goes_to_the_first_in_line_it_suits(self) -> None:
        line, _ = line_with((ELEVEN, ELEVEN), WHOLE_DAY, WHOLE_DAY)
        line.freed(TEN, NOW)
        assert [(m.entry_id, m.start) for m in line.matches()] == [("e2", TEN)]

    def test_each_free_slot_to_a_different_customer(self) -> None:
        line, _ = line_with(WHOLE_DAY, WHOLE_DAY, WHOLE_DAY)
        line.freed(TEN, NOW)
        line.freed(NINE, NOW)
        assert [(m.entry_id, m.start) for m in line.matches()] == [("e1", NINE), ("e2", TEN)]

    def test_a_slot_under_offer_is_offered_to_no_one_else(self) -> None:
        line, _ = line_with(WHOLE_DAY, WHOLE_DAY)
        line.freed(TEN, NOW)
        offer_all(line)
        line.freed(TEN, NOW + timedelta(seconds=1))  # told again
        line.freed(NINE, NOW + timedelta(seconds=1))
        assert [(m.entry_id, m.start) for m in line.matches()] == [("e2", NINE)]

    def test_joining_twice_keeps_the_first_place(self) -> None:
        line, (first,) = line_with(WHOLE_DAY)
        again = line.join("other", "c1", *WHOLE_DAY, None, CONSENTS, NOW)
        assert again == first
        assert line.position(first) == 1


class TestOffersEnding:
    def test_an_unclaimed_offer_passes_and_the_slot_goes_to_the_next_once_free(self) -> None:
        line, (first, second) = line_with(WHOLE_DAY, WHOLE_DAY)
        line.freed(TEN, NOW)
        (booking_id,) = offer_all(line)
        line.passed(booking_id, "expired", slot_still_held=True)
        assert line.entry(first)["status"] == EntryStatus.PASSED
        assert line.matches() == []  # its hold is not released yet
        line.freed(TEN, NOW + timedelta(minutes=16))
        assert [m.entry_id for m in line.matches()] == [second]

    def test_a_passed_offers_slot_goes_on_as_the_same_freeing(self) -> None:
        """Time-to-fill counts from the cancellation, not from the pass: the first
        offer's hold given back frees the start as it was freed first."""
        line, (_, second) = line_with(WHOLE_DAY, WHOLE_DAY)
        line.freed(TEN, NOW, FreedBy.CANCELLED, "cancelled-booking")
        (first_offer,) = offer_all(line)
        line.passed(first_offer, "expired", slot_still_held=True)
        line.freed(TEN, NOW + timedelta(minutes=16), FreedBy.RELEASED, first_offer)
        (second_offer,) = offer_all(line)
        offer = line.offer(second_offer)
        assert offer is not None
        assert offer.entry_id == second
        assert (offer.freed_at, offer.freed_by, offer.freed_booking_id) == (
            NOW,
            FreedBy.CANCELLED,
            "cancelled-booking",
        )

    def test_a_start_taken_by_someone_else_is_a_new_freeing_when_given_back(self) -> None:
        line, _ = line_with(WHOLE_DAY, WHOLE_DAY)
        line.freed(TEN, NOW, FreedBy.CANCELLED, "b1")
        (booking_id,) = offer_all(line)
        line.lost(booking_id)  # a walk-in took it first
        later = NOW + timedelta(hours=1)
        line.freed(TEN, later, FreedBy.CANCELLED, "walk-in")
        (again,) = offer_all(line)
        offer = line.offer(again)
        assert offer is not None
        assert (offer.freed_at, offer.freed_booking_id) == (later, "walk-in")

    def test_a_claim_takes_the_entry_out_of_the_line(self) -> None:
        line, (first, second) = line_with(WHOLE_DAY, WHOLE_DAY)
        line.freed(TEN, NOW)
        (booking_id,) = offer_all(line)
        line.claimed(booking_id)
        assert line.entry(first)["status"] == EntryStatus.CLAIMED
        assert line.position(second) == 1
        assert line.matches() == []

    def test_a_lost_hold_keeps_the_place_but_not_that_start(self) -> None:
        line, (first, second) = line_with(WHOLE_DAY, WHOLE_DAY)
        line.freed(TEN, NOW)
        (booking_id,) = offer_all(line)
        line.lost(booking_id)
        assert line.position(first) == 1
        line.freed(TEN, NOW + timedelta(seconds=5))
        assert [m.entry_id for m in line.matches()] == [second]

    def test_leaving_while_offered_declines_the_offer(self) -> None:
        line, (first,) = line_with(WHOLE_DAY)
        line.freed(TEN, NOW)
        offer_all(line)
        line.leave(first)
        assert line.offers == {}
        assert line.entry(first)["status"] == EntryStatus.LEFT
        with pytest.raises(NotInLine):
            line.leave(first)


def offer_booking(seconds: int = 900) -> Booking:
    booking = new_booking(
        Policy(), waitlist={"line_id": str(uuid4()), "entry_id": "e1", "offer_seconds": seconds}
    )
    booking.hold_placed(START, START + timedelta(hours=1), ["r1"], NOW + timedelta(minutes=16))
    return booking


def status_of(booking: Booking) -> BookingStatus:
    """The status now: read through a call, so the type checker keeps no narrowing of an
    earlier read across the command that changes it."""
    return booking.status


class TestOfferBooking:
    def test_a_held_offer_waits_for_its_claim(self) -> None:
        booking = offer_booking()
        assert status_of(booking) is BookingStatus.OFFERED
        booking.claim(NOW + timedelta(minutes=5))
        assert status_of(booking) is BookingStatus.CONFIRMING

    def test_an_offer_runs_out_and_gives_its_hold_back(self) -> None:
        booking = offer_booking()
        assert not booking.time_out(NOW + timedelta(minutes=14), timedelta(60), timedelta(60))
        assert booking.time_out(NOW + timedelta(minutes=15), timedelta(60), timedelta(60))
        assert booking.status is BookingStatus.EXPIRED
        assert isinstance(list(booking.collect_events())[-1], Booking.ReleaseAsked)

    def test_a_late_claim_is_refused(self) -> None:
        booking = offer_booking()
        with pytest.raises(InvalidTransition, match="ran out"):
            booking.claim(NOW + timedelta(minutes=15))

    def test_a_booking_that_is_no_offer_cannot_be_claimed(self) -> None:
        booking = new_booking(Policy())
        booking.hold_placed(START, START + timedelta(hours=1), ["r1"], NOW + timedelta(minutes=10))
        with pytest.raises(InvalidTransition):
            booking.claim(NOW)


class TestWhatTheLiveViewShows:
    """``SlotsChanged``: a start the day's view shows bookable (a new schedule, a new
    resource) is free for the line — when the view is not older than the entry."""

    def test_a_start_shown_bookable_goes_to_the_first_it_suits(self) -> None:
        line, _ = line_with((ELEVEN, ELEVEN), (TEN, TEN))
        line.shown_free([NINE, TEN], NOW + timedelta(minutes=1))
        assert [(m.entry_id, m.start) for m in line.matches()] == [("e2", TEN)]
        assert list(line.free) == [TEN.isoformat()], "nine: nobody waits for it"

    def test_a_view_computed_before_the_entry_joined_offers_it_nothing(self) -> None:
        line, _ = line_with((TEN, TEN))
        line.shown_free([TEN], NOW - timedelta(seconds=1))
        assert line.matches() == []

    def test_a_start_lost_once_is_not_shown_free_to_that_entry_again(self) -> None:
        line, _ = line_with((TEN, TEN))
        line.shown_free([TEN], NOW + timedelta(minutes=1))
        [booking_id] = offer_all(line)
        line.lost(booking_id)
        line.shown_free([TEN], NOW + timedelta(minutes=2))
        assert line.matches() == []

    @pytest.mark.parametrize("view_first", [True, False])
    def test_a_cancelled_bookings_start_keeps_its_cause_whichever_message_comes_first(
        self, view_first: bool
    ) -> None:
        """Availability's answer to a cancellation and its live view race each other:
        the start is freed ``cancelled``, from the cancellation, either way."""
        line, _ = line_with((TEN, TEN))
        cancelled_at = NOW + timedelta(minutes=1)
        line.giving_back(TEN, cancelled_at, FreedBy.CANCELLED, "b-1")
        view, answer = NOW + timedelta(minutes=2), NOW + timedelta(minutes=3)
        if view_first:
            line.shown_free([TEN], view)
            line.freed(TEN, answer, FreedBy.CANCELLED, "b-1")
        else:
            line.freed(TEN, answer, FreedBy.CANCELLED, "b-1")
            line.shown_free([TEN], view)
        freeing = line.freeings[TEN.isoformat()]
        assert freeing == {
            "at": cancelled_at.isoformat(),
            "by": FreedBy.CANCELLED.value,
            "booking_id": "b-1",
        }
        assert [m.start for m in line.matches()] == [TEN]
