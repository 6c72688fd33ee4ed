"""The KPI definitions, case by case, on fact records (no infrastructure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from slotline.analytics.domain import kpis
from slotline.analytics.domain.facts import (
    BookingFact,
    CallbackFact,
    CallFact,
    Period,
    RequestFact,
    WaitlistFact,
    WaitlistOfferFact,
)
from slotline.analytics.domain.figures import Durations, Ratio

pytestmark = pytest.mark.unit

DEC = Period(datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
D1 = datetime(2026, 12, 1, 9, tzinfo=UTC)
NOV = datetime(2026, 11, 20, tzinfo=UTC)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


class TestFigures:
    def test_a_ratio_with_nothing_to_divide_by_has_no_rate(self) -> None:
        assert Ratio.of(0, 0) == Ratio(0, 0, None)
        assert Ratio.of(1, 3).rate == 0.3333

    def test_durations_give_median_and_nearest_rank_p90(self) -> None:
        figure = Durations.of([float(s) for s in range(1, 11)])
        assert figure == Durations(10, 5.5, 9.0)
        assert Durations.of([]) == Durations(0, None, None)


class TestBookingConversion:
    def test_requests_in_the_period_booked_share_overall_and_per_channel(self) -> None:
        requests = [
            RequestFact("r1", "web", D1, D1 + minutes(1)),
            RequestFact("r2", "web", D1, None),
            RequestFact("r3", "whatsapp", D1, D1 + minutes(3)),
            RequestFact("r4", None, D1, None),
            RequestFact("old", "web", NOV, NOV + minutes(1)),  # before the period
        ]
        shares = kpis.booking_conversion(requests, DEC)
        assert shares == {
            "all": Ratio.of(2, 4),
            "unknown": Ratio.of(0, 1),
            "web": Ratio.of(1, 2),
            "whatsapp": Ratio.of(1, 1),
        }

    def test_time_to_book_runs_from_request_to_confirmation(self) -> None:
        requests = [
            RequestFact("r1", "web", D1, D1 + minutes(1)),
            RequestFact("r2", "web", D1, D1 + minutes(3)),
            RequestFact("r3", "web", D1, None),
        ]
        assert kpis.time_to_book(requests, DEC) == Durations(2, 120.0, 180.0)


def appointment(booking_id: str, **fields: object) -> BookingFact:
    defaults: dict[str, object] = {
        "confirmed_at": NOV,
        "slot_start": D1,
        "slot_end": D1 + minutes(60),
        "resource_ids": ("staff-1",),
    }
    return BookingFact(booking_id, **{**defaults, **fields})  # type: ignore[arg-type]  # a fact of fields of several types, by name


class TestAppointmentOutcomes:
    def test_no_show_rate_counts_appointments_with_a_known_outcome(self) -> None:
        bookings = [
            appointment("came", completed_at=D1 + minutes(60)),
            appointment("absent", no_show_at=D1 + minutes(15)),
            appointment("not yet"),
            appointment("cancelled", cancelled_at=NOV),
            appointment("next month", slot_start=DEC.end, no_show_at=DEC.end),
        ]
        assert kpis.no_show_rate(bookings, DEC) == Ratio.of(1, 2)

    def test_cancellation_rates_count_appointments_booked_for_the_period(self) -> None:
        bookings = [
            appointment("a"),
            appointment("b", cancelled_at=NOV),
            appointment("c", cancelled_at=D1 - minutes(30), cancelled_late=True),
            appointment("never confirmed", confirmed_at=None, cancelled_at=NOV),
        ]
        assert kpis.cancellation_rate(bookings, DEC) == Ratio.of(2, 3)
        assert kpis.late_cancellation_rate(bookings, DEC) == Ratio.of(1, 3)


class TestSameDayShare:
    def test_same_day_is_judged_in_the_locations_time_zone(self) -> None:
        late_evening = datetime(2026, 12, 1, 22, 30, tzinfo=UTC)  # Dec 2, 00:30 in Athens
        bookings = [
            BookingFact("today", confirmed_at=D1, slot_start=D1 + minutes(120)),
            BookingFact("tomorrow", confirmed_at=D1, slot_start=D1 + timedelta(days=1)),
            BookingFact(
                "athens",
                confirmed_at=late_evening,
                slot_start=late_evening + minutes(600),
                time_zone="Europe/Athens",
            ),
            BookingFact(
                "utc would say same day",
                confirmed_at=datetime(2026, 12, 1, 21, 0, tzinfo=UTC),  # 23:00 Athens
                slot_start=late_evening,  # 00:30 next day in Athens
                time_zone="Europe/Athens",
            ),
        ]
        assert kpis.same_day_share(bookings, DEC) == Ratio.of(2, 4)


class TestTimeToFill:
    def test_a_cancelled_slot_is_filled_by_the_first_overlapping_booking_on_its_resource(
        self,
    ) -> None:
        slot = D1 + timedelta(days=5)
        gap = appointment("gone", slot_start=slot, slot_end=slot + minutes(60), cancelled_at=D1)
        later = [
            appointment(
                "other room",
                confirmed_at=D1 + minutes(10),
                slot_start=slot,
                slot_end=slot + minutes(60),
                resource_ids=("staff-2",),
            ),
            appointment(
                "refill",
                confirmed_at=D1 + minutes(40),
                slot_start=slot + minutes(30),
                slot_end=slot + minutes(90),
            ),
            appointment(
                "second refill",
                confirmed_at=D1 + minutes(50),
                slot_start=slot,
                slot_end=slot + minutes(30),
            ),
        ]
        unfilled = appointment(
            "never refilled", slot_start=slot + timedelta(days=1), cancelled_at=D1
        )
        refill = kpis.time_to_fill([gap, unfilled], [gap, unfilled, *later], DEC)
        assert refill.filled == Ratio.of(1, 2)
        assert refill.time_to_fill == Durations(1, 2400.0, 2400.0)

    def test_a_booking_made_after_the_slot_began_is_no_refill(self) -> None:
        gap = appointment("gone", cancelled_at=D1 - minutes(60), confirmed_at=NOV)
        too_late = appointment("walk-in", confirmed_at=D1 + minutes(5))
        refill = kpis.time_to_fill([gap], [gap, too_late], DEC)
        assert refill.filled == Ratio.of(0, 1)
        assert refill.time_to_fill == Durations(0, None, None)


class TestCalls:
    def test_missed_call_rate_and_text_back_coverage(self) -> None:
        calls = [
            CallFact("answered", received_at=D1),
            CallFact("missed", received_at=D1, missed_at=D1 + minutes(1), texted_back_at=D1),
            CallFact("missed, no text", received_at=D1, missed_at=D1 + minutes(1)),
            CallFact("only the miss was seen", missed_at=D1),
            CallFact("november", received_at=NOV, missed_at=NOV),
        ]
        assert kpis.missed_call_rate(calls, DEC) == Ratio.of(3, 4)
        assert kpis.text_back_coverage(calls, DEC) == Ratio.of(1, 3)


class TestCallbacks:
    def test_speed_to_lead_runs_from_the_missed_call_to_the_first_attempt(self) -> None:
        tasks = [
            CallbackFact(
                "t1", created_at=D1, lead_at=D1 - minutes(1), first_attempt_at=D1 + minutes(4)
            ),
            CallbackFact("t2", created_at=D1, first_attempt_at=D1 + minutes(10)),  # a web lead
            CallbackFact("t3", created_at=D1),  # nobody called yet
        ]
        assert kpis.speed_to_lead(tasks, DEC) == Durations(2, 450.0, 600.0)

    def test_within_sla_breached_and_pending(self) -> None:
        deadline = D1 + minutes(15)
        now = D1 + minutes(20)
        tasks = [
            CallbackFact(
                "called in time", created_at=D1, deadline=deadline, first_attempt_at=D1 + minutes(5)
            ),
            CallbackFact(
                "booked meanwhile", created_at=D1, deadline=deadline, closed_at=D1 + minutes(2)
            ),
            CallbackFact("called late", created_at=D1, deadline=deadline, first_attempt_at=now),
            CallbackFact("forgotten", created_at=D1, deadline=deadline),
            CallbackFact("still time", created_at=D1, deadline=now + minutes(5)),
        ]
        sla = kpis.callbacks_within_sla(tasks, DEC, now)
        assert sla.within_sla == Ratio.of(2, 4)
        assert sla.pending == 1


class TestPeriod:
    def test_a_period_must_end_after_it_starts(self) -> None:
        with pytest.raises(ValueError, match="end after"):
            Period(D1, D1)


class TestWaitlist:
    def test_each_count_is_anchored_on_its_own_moment_and_refill_on_the_offer(self) -> None:
        entries = [
            WaitlistFact("w1", "massage", D1, D1 + minutes(5), claimed_at=D1 + minutes(9)),
            WaitlistFact("w2", "massage", D1, D1 + minutes(20), passed_at=D1 + minutes(35)),
            WaitlistFact("w3", "massage", D1, left_at=D1 + minutes(60)),
            # joined and offered in November, claimed in December
            WaitlistFact("w4", "massage", NOV, NOV + minutes(1), claimed_at=D1),
        ]
        figures = kpis.waitlist(entries, [], DEC)
        assert figures == kpis.WaitlistFigures(
            joined=3,
            offered=2,
            claimed=2,
            passed=1,
            left=1,
            refill_rate=Ratio.of(1, 2),
            slots_filled=Ratio(0, 0, None),
            time_to_fill=Durations(0, None, None),
        )

    def test_nothing_offered_has_no_refill_rate(self) -> None:
        figures = kpis.waitlist([WaitlistFact("w1", "massage", D1)], [], DEC)
        assert figures.joined == 1
        assert figures.refill_rate == Ratio(0, 0, None)


def offer(
    booking_id: str,
    freed_at: datetime,
    *,
    start: datetime = D1 + timedelta(days=3),
    service: str = "massage",
    by: str | None = "cancelled",
    claimed_at: datetime | None = None,
    passed_at: datetime | None = None,
) -> WaitlistOfferFact:
    return WaitlistOfferFact(
        booking_id,
        service_id=service,
        location_id="kifisia",
        slot_start=start,
        slot_freed_at=freed_at,
        slot_freed_by=by,
        offered_at=freed_at + minutes(0.1),
        claimed_at=claimed_at,
        passed_at=passed_at,
    )


class TestWaitlistTimeToFill:
    def test_a_claimed_offer_fills_its_slot_from_the_freeing(self) -> None:
        fills = kpis.waitlist_fills([offer("o1", D1, claimed_at=D1 + minutes(7))], DEC)
        assert fills == kpis.Refill(Ratio.of(1, 1), Durations(1, 420.0, 420.0))

    def test_offers_of_one_freeing_are_one_slot_filled_from_the_freeing(self) -> None:
        passed = offer("o1", D1, passed_at=D1 + minutes(15))
        claimed = offer("o2", D1, claimed_at=D1 + minutes(20))
        fills = kpis.waitlist_fills([passed, claimed], DEC)
        assert fills == kpis.Refill(Ratio.of(1, 1), Durations(1, 1200.0, 1200.0))

    def test_an_unclaimed_freeing_has_no_time_to_fill_and_counts_as_not_filled(self) -> None:
        other_day = D1 + timedelta(days=4)
        fills = kpis.waitlist_fills(
            [
                offer("o1", D1, claimed_at=D1 + minutes(10)),
                offer("o2", D1 + minutes(1), start=other_day, passed_at=D1 + minutes(16)),
                offer("o3", D1 + minutes(2), service="facial"),  # still open
            ],
            DEC,
        )
        assert fills == kpis.Refill(Ratio.of(1, 3), Durations(1, 600.0, 600.0))

    def test_median_and_p90_over_the_freeings_of_the_period(self) -> None:
        waits = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
        offers = [
            offer(f"o{n}", D1, start=D1 + timedelta(days=n), claimed_at=D1 + minutes(n))
            for n in waits
        ]
        offers.append(offer("nov", NOV, claimed_at=D1))  # freed in November
        fills = kpis.waitlist_fills(offers, DEC)
        assert fills.time_to_fill == Durations(10, 330.0, 540.0)
        assert fills.filled == Ratio.of(10, 10)

    def test_a_slot_that_opened_is_no_refill_and_an_unknown_cause_counts(self) -> None:
        fills = kpis.waitlist_fills(
            [
                offer("o1", D1, by="opened", claimed_at=D1 + minutes(1)),
                offer("o2", D1, service="facial", by=None, claimed_at=D1 + minutes(2)),
            ],
            DEC,
        )
        assert fills == kpis.Refill(Ratio.of(1, 1), Durations(1, 120.0, 120.0))
