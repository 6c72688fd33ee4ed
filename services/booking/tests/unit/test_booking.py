"""The booking saga's state machine, answer by answer (pure: no database, no broker)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    UUIDAsHex,
)
from eventsourcing.utils import get_topic, resolve_topic

from slotline.booking.domain.booking import (
    INTAKE_FIELDS,
    REQUEST_FIELDS,
    Actor,
    Booking,
    BookingRequest,
    BookingStatus,
    Intake,
    InvalidTransition,
    Refusal,
)
from slotline.booking.domain.money import Money
from slotline.booking.domain.policy import PaymentRequirement, Policy
from slotline.booking.domain.request import FrontDeskClaim, front_desk_claim
from slotline.booking.domain.status import MoveAnswer

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 1, 8, tzinfo=UTC)
START = datetime(2026, 12, 3, 10, tzinfo=UTC)
DEPOSIT = Policy(
    payment=PaymentRequirement.DEPOSIT,
    deposit=Money(2000, "EUR"),
    free_cancellation_hours=24,
    late_cancellation_fee=Money(1500, "EUR"),
    no_show_fee=Money(2000, "EUR"),
    free_changes=1,
    change_fee=Money(500, "EUR"),
)


def new_booking(policy: Policy = DEPOSIT, channel: str = "web", **extra: Any) -> Booking:
    request = BookingRequest(
        tenant_id="t",
        request_id=str(uuid4()),
        idempotency_key=None,
        fingerprint="f",
        channel=channel,
        contact={"name": "Maria", "phone": "+306941234567", "email": None, "language": "en"},
        consents={"transactional": True, "marketing": False},
        slot_start=START,
        payment_token="tok_visa",
    )
    intake = Intake(
        reference="SLT-ABCDEF",
        customer_id=uuid4(),
        terms={
            "service_id": "s",
            "service_name": "Massage",
            "duration_minutes": 60,
            "price_tier": "standard",
            "location_id": "l",
            "location_name": "Clinic",
            "time_zone": "Europe/Athens",
        },
        policy=policy.to_data(),
        hold_ttl_seconds=600,
        requested_at=NOW,
        **extra,
    )
    return Booking.take(request, intake)


def kinds(booking: Booking) -> list[type[object]]:
    return [type(e) for e in booking.collect_events()]


def confirmed(policy: Policy = DEPOSIT) -> Booking:
    booking = new_booking(policy)
    booking.hold_placed(START, START + timedelta(hours=1), ["r1"], NOW + timedelta(minutes=10))
    booking.payment_authorized("p1", Money(2000, "EUR"))
    booking.hold_confirmed(START, START + timedelta(hours=1), ["r1"])
    booking.collect_events()
    return booking


class TestTheSaga:
    def test_a_held_slot_asks_for_the_deposit_when_the_policy_wants_one(self) -> None:
        booking = new_booking()
        booking.hold_placed(START, START + timedelta(hours=1), ["r1"], NOW + timedelta(minutes=10))
        assert kinds(booking) == [Booking.Requested, Booking.Held, Booking.DepositAsked]
        assert booking.status is BookingStatus.AWAITING_PAYMENT

    def test_without_payment_a_held_slot_is_confirmed_at_once(self) -> None:
        booking = new_booking(Policy())
        booking.hold_placed(START, START + timedelta(hours=1), ["r1"], NOW + timedelta(minutes=10))
        assert kinds(booking)[-1] == Booking.ConfirmationAsked
        assert booking.status is BookingStatus.CONFIRMING

    def test_confirmed_on_placing_it_asks_nothing_more_and_the_answer_confirms_it(
        self,
    ) -> None:
        """Nothing due first: availability confirms in the step that places the hold, so
        the held booking is confirming already and no second command (two hops) follows."""
        booking = new_booking(Policy(), confirm_on_placing=True)
        booking.hold_placed(START, START + timedelta(hours=1), ["r1"], NOW + timedelta(minutes=10))
        assert kinds(booking) == [Booking.Requested, Booking.Held]
        assert booking.status is BookingStatus.CONFIRMING
        booking.hold_confirmed(START, START + timedelta(hours=1), ["r1"])
        assert kinds(booking) == [Booking.Confirmed]
        assert booking.status.value == "confirmed"

    def test_confirmed_on_placing_but_answered_too_late_it_stays_expired(self) -> None:
        """The saga gave up (and asked for the release) before the hold came: the late
        placing and confirmation change nothing; availability frees it on the release."""
        booking = new_booking(Policy(), confirm_on_placing=True)
        assert booking.time_out(NOW + timedelta(minutes=5), timedelta(minutes=1), timedelta(1))
        assert kinds(booking)[-2:] == [Booking.Expired, Booking.ReleaseAsked]
        booking.hold_placed(START, START + timedelta(hours=1), ["r1"], NOW + timedelta(minutes=10))
        booking.hold_confirmed(START, START + timedelta(hours=1), ["r1"])
        assert kinds(booking) == []
        assert booking.status is BookingStatus.EXPIRED

    def test_a_failed_payment_rejects_and_releases_the_hold(self) -> None:
        booking = new_booking()
        booking.hold_placed(START, START + timedelta(hours=1), ["r1"], NOW + timedelta(minutes=10))
        booking.collect_events()
        booking.payment_failed("declined", "card declined")
        assert kinds(booking) == [Booking.Rejected, Booking.ReleaseAsked]
        assert booking.status_reason == "payment_failed"

    def test_late_and_repeated_answers_change_nothing(self) -> None:
        booking = confirmed()
        booking.hold_placed(START, START + timedelta(hours=1), ["r2"], NOW)
        booking.payment_authorized("p2", Money(2000, "EUR"))
        booking.hold_expired()
        booking.hold_refused(Refusal("taken"))
        assert kinds(booking) == []
        assert booking.status is BookingStatus.CONFIRMED

    def test_a_saga_without_an_answer_expires_and_releases_on_its_own_deadline(self) -> None:
        booking = new_booking()
        booking.collect_events()
        assert not booking.time_out(
            NOW + timedelta(seconds=59), timedelta(minutes=1), timedelta(minutes=8)
        )
        assert booking.time_out(
            NOW + timedelta(minutes=1), timedelta(minutes=1), timedelta(minutes=8)
        )
        assert kinds(booking) == [Booking.Expired, Booking.ReleaseAsked]


class TestWhoMaySayWhat:
    """A channel passes on what anyone typed: only the front desk may say some things."""

    def test_only_the_front_desk_books_by_phone_or_at_the_desk(self) -> None:
        for channel in ("staff", "phone"):
            claim = front_desk_claim(channel, None, marketing_consent=False)
            assert claim == FrontDeskClaim(
                "channel", f"only the front desk books with channel '{channel}'"
            )
        assert front_desk_claim("whatsapp", None, marketing_consent=False) is None

    def test_only_the_front_desk_ties_a_booking_to_a_call_or_takes_marketing_consent(
        self,
    ) -> None:
        assert front_desk_claim("web", "call-1", marketing_consent=False) == FrontDeskClaim(
            "source_call_id", "only the front desk ties a booking to a call"
        )
        assert front_desk_claim("web", None, marketing_consent=True) == FrontDeskClaim(
            "consents", "marketing consent is not taken on an anonymous booking form"
        )


class TestChanges:
    def test_cancelling_inside_the_window_refunds_the_deposit(self) -> None:
        booking = confirmed()
        booking.cancel(Actor.CUSTOMER, START - timedelta(days=2), "sick")
        events = booking.collect_events()
        assert [type(e) for e in events] == [Booking.Cancelled, Booking.AllocationCancelAsked]
        cancelled: Any = events[0]
        assert cancelled.within_free_window is True
        assert cancelled.refund == {"amount_minor": 2000, "currency": "EUR"}

    def test_a_customer_cannot_cancel_once_the_visit_began(self) -> None:
        with pytest.raises(InvalidTransition, match="started"):
            confirmed().cancel(Actor.CUSTOMER, START + timedelta(minutes=5), None)

    def test_a_move_is_under_way_then_made_or_refused(self) -> None:
        moved, refused = confirmed(), confirmed()
        for booking in (moved, refused):
            booking.ask_reschedule(Actor.CUSTOMER, START + timedelta(hours=2), NOW, None, None)
            assert booking.move_answer(changes_before=0) is MoveAnswer.UNDER_WAY
        moved.hold_rescheduled(START + timedelta(hours=2), START + timedelta(hours=3), ["r1"])
        refused.reschedule_refused(Refusal("slot_taken", "taken", ()))
        assert moved.move_answer(changes_before=0) is MoveAnswer.MOVED
        assert refused.move_answer(changes_before=0) is MoveAnswer.REFUSED

    def test_a_refused_move_is_answered_with_why_and_the_free_slots_instead(self) -> None:
        moved, refused = confirmed(), confirmed()
        later = (START + timedelta(hours=3), START + timedelta(hours=4))
        for booking in (moved, refused):
            booking.ask_reschedule(Actor.CUSTOMER, START + timedelta(hours=2), NOW, None, None)
        moved.hold_rescheduled(START + timedelta(hours=2), START + timedelta(hours=3), ["r1"])
        refused.reschedule_refused(Refusal("slot_taken", "taken", (later,)))
        assert moved.move_reply(changes_before=0).card_changes == {}
        assert refused.move_reply(changes_before=0).card_changes == {
            "status": "change_refused",
            "reason": "slot_taken",
            "detail": "taken",
            "alternatives": [{"start": later[0].isoformat(), "end": later[1].isoformat()}],
        }

    def test_a_customer_books_only_offered_starts_and_the_front_desk_any(self) -> None:
        assert new_booking().offered_starts_only
        assert not new_booking(channel="staff").offered_starts_only
        assert not new_booking(channel="phone").offered_starts_only
        assert Booking.move_offered_only({"by": Actor.CUSTOMER.value})
        assert not Booking.move_offered_only({"by": Actor.STAFF.value})

    def test_one_change_at_a_time_and_the_fee_after_the_free_ones(self) -> None:
        booking = confirmed()
        booking.ask_reschedule(Actor.CUSTOMER, START + timedelta(hours=2), NOW, None, None)
        with pytest.raises(InvalidTransition, match="already under way"):
            booking.ask_reschedule(Actor.CUSTOMER, START + timedelta(hours=3), NOW, None, None)
        booking.hold_rescheduled(START + timedelta(hours=2), START + timedelta(hours=3), ["r1"])
        booking.ask_reschedule(Actor.CUSTOMER, START + timedelta(hours=4), NOW, None, None)
        assert booking.pending_change is not None
        assert booking.pending_change["change_number"] == 2
        assert booking.pending_change["fee"] == {"amount_minor": 500, "currency": "EUR"}

    def test_a_refused_move_leaves_the_booking_where_it_was(self) -> None:
        booking = confirmed()
        booking.ask_reschedule(Actor.STAFF, START + timedelta(hours=2), NOW, None, None)
        booking.reschedule_refused(Refusal("slot_taken"))
        assert booking.slot_start == START
        assert booking.changes == 0
        assert booking.pending_change is None

    def test_a_refused_move_never_offers_the_slot_the_booking_already_has(self) -> None:
        booking = confirmed()
        booking.ask_reschedule(Actor.STAFF, START + timedelta(hours=2), NOW, None, None)
        own = (START, START + timedelta(hours=1))
        other = (START + timedelta(hours=3), START + timedelta(hours=4))
        booking.reschedule_refused(Refusal("slot_taken", "taken", (own, other)))
        assert booking.last_change_refusal is not None
        assert booking.last_change_refusal["alternatives"] == [
            [other[0].isoformat(), other[1].isoformat()]
        ]

    def test_a_move_that_goes_through_clears_the_last_refusal(self) -> None:
        booking = confirmed()
        booking.ask_reschedule(Actor.STAFF, START + timedelta(hours=2), NOW, None, None)
        booking.reschedule_refused(Refusal("slot_taken", "taken"))
        booking.ask_reschedule(Actor.STAFF, START + timedelta(hours=5), NOW, None, None)
        booking.hold_rescheduled(START + timedelta(hours=5), START + timedelta(hours=6), ["r1"])
        assert booking.last_change_refusal is None

    def test_no_show_only_after_the_start_and_with_the_fee(self) -> None:
        booking = confirmed()
        with pytest.raises(InvalidTransition, match="not started"):
            booking.mark_no_show(START - timedelta(minutes=1))
        booking.mark_no_show(START + timedelta(minutes=20))
        no_show: Any = booking.collect_events()[-1]
        assert no_show.fee == {"amount_minor": 2000, "currency": "EUR"}
        assert booking.status is BookingStatus.NO_SHOW


TRANSCODER = JSONTranscoder()
TRANSCODER.register(UUIDAsHex())
TRANSCODER.register(DatetimeAsISO())
MAPPER: Mapper[Any] = Mapper(transcoder=TRANSCODER)

# Every event a booking has ever stored, by the name it is stored under.
STORED_EVENTS = [
    "Requested",
    "Held",
    "DepositAsked",
    "ConfirmationAsked",
    "Paid",
    "Confirmed",
    "Rejected",
    "ReleaseAsked",
    "Expired",
    "Cancelled",
    "AllocationCancelAsked",
    "RescheduleAsked",
    "Rescheduled",
    "ChangeRefused",
    "Arrived",
    "Completed",
    "NoShow",
    "Offered",
    "Claimed",
]


class TestStoredBookingsStillLoad:
    @pytest.mark.parametrize("name", STORED_EVENTS)
    def test_a_booking_event_keeps_the_topic_it_is_stored_under(self, name: str) -> None:
        """A stored event is read back by this topic (module and qualified name)."""
        topic = f"slotline.booking.domain.booking:Booking.{name}"
        assert get_topic(getattr(Booking, name)) == topic
        assert resolve_topic(topic) is getattr(Booking, name)

    def test_a_booking_taken_from_a_request_is_recorded_as_the_request_and_its_intake(
        self,
    ) -> None:
        (requested,) = new_booking().collect_events()
        assert isinstance(requested, Booking.Requested)
        recorded = set(vars(requested)) - {
            "originator_id",
            "originator_version",
            "originator_topic",
            "timestamp",
        }
        assert recorded == {"request", "intake"}
        assert set(requested.request) == set(REQUEST_FIELDS)
        assert set(requested.intake) == set(INTAKE_FIELDS)
        assert type(requested).class_version == 2

    @pytest.mark.parametrize("before_the_waitlist", [False, True])
    def test_a_booking_stored_flat_by_version_1_loads_as_the_same_booking(
        self, before_the_waitlist: bool
    ) -> None:
        """Bookings stored before 2026-12-04 have one flat ``Requested`` event (and none
        before the waitlist has ``waitlist``); the upcaster reads them."""
        booking = new_booking()
        (requested,) = booking.collect_events()
        stored = MAPPER.to_stored_event(requested)
        state = TRANSCODER.decode(stored.state)
        assert state.pop("class_version") == 2
        flat = {**state, **state.pop("request"), **state.pop("intake")}
        if before_the_waitlist:
            del flat["waitlist"]
        version_1 = StoredEvent(
            originator_id=stored.originator_id,
            originator_version=stored.originator_version,
            topic=stored.topic,
            state=TRANSCODER.encode(flat),
        )

        event = MAPPER.to_domain_event(version_1)
        assert isinstance(event, Booking.Requested)
        loaded = event.mutate(None)

        assert loaded is not None
        same = (
            "id",
            "tenant_id",
            "request_id",
            "customer_id",
            "contact_data",
            "slot_start",
            "slot_end",
            "terms_data",
            "policy_data",
            "requested_at",
            "status",
            "waitlist",
        )
        assert {n: getattr(loaded, n) for n in same} == {n: getattr(booking, n) for n in same}
