"""The ledger: booking's decisions become gateway operations; gateway facts apply once,
in any order; fees are kept from held money before anything is charged."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from eventsourcing.utils import get_topic, resolve_topic

from slotline.payments.domain.facts import (
    AuthorizationRefused,
    Authorized,
    Captured,
    FailureReason,
    OperationStalled,
    Refunded,
    Voided,
)
from slotline.payments.domain.ledger import FactMismatch, Ledger, UnknownPayment
from slotline.payments.domain.money import CurrencyMismatch, Money
from slotline.payments.domain.operations import Operation, OperationKind
from slotline.payments.domain.payment import PaymentStatus, Purpose, ReceiptTerms
from slotline.payments.domain.quote import TaxTerms

pytestmark = pytest.mark.unit

_ids = itertools.count(1)
TERMS = ReceiptTerms(
    lambda: TaxTerms(2400, True), lambda: f"receipt-{next(_ids)}", lambda: datetime.now(UTC)
)


def eur(amount: int) -> Money:
    return Money(amount, "EUR")


def kinds(ledger: Ledger) -> list[type[object]]:
    """Classes of the events recorded since the last call (and forget them)."""
    return [type(e) for e in ledger.collect_events()]


def pending(ledger: Ledger, kind: OperationKind) -> Operation:
    return next(op for op in ledger.pending.values() if op.kind is kind)


def authorised(amount: int = 5000, pay_with: str | None = "tok_visa") -> Ledger:
    ledger = Ledger(tenant_id="t", booking_id="b-1")
    ledger.request_payment(
        amount=eur(amount), purpose=Purpose.DEPOSIT, token=pay_with, price_tier="x"
    )
    deposit = ledger.deposit
    assert deposit is not None
    ledger.learn(Authorized(deposit.payment_id, "pi_1", amount, "simulated"), TERMS)
    return ledger


def captured(amount: int = 5000) -> Ledger:
    ledger = authorised(amount)
    ledger.booking_confirmed()
    capture = pending(ledger, OperationKind.CAPTURE)
    ledger.learn(Captured(capture.payment_id, "pi_1", amount, "simulated"), TERMS)
    kinds(ledger)
    return ledger


class TestRequestingADeposit:
    def test_the_authorisation_is_recorded_before_it_is_made_with_a_key_from_the_ledger(
        self,
    ) -> None:
        ledger = Ledger(tenant_id="t", booking_id="b-1")
        ledger.request_payment(
            amount=eur(5000), purpose=Purpose.DEPOSIT, token="tok_visa", price_tier=None
        )
        operation = pending(ledger, OperationKind.AUTHORIZE)
        assert operation.key == f"slotline-{ledger.id}-2-authorize"
        assert (operation.amount, operation.currency, operation.token) == (5000, "EUR", "tok_visa")

    def test_asking_again_while_a_deposit_stands_is_the_same_request(self) -> None:
        ledger = authorised()
        ledger.request_payment(
            amount=eur(5000), purpose=Purpose.DEPOSIT, token="tok_visa", price_tier=None
        )
        assert len(ledger.payments) == 1

    def test_without_a_token_the_authorisation_fails_at_once(self) -> None:
        ledger = Ledger(tenant_id="t", booking_id="b-1")
        ledger.request_payment(
            amount=eur(5000), purpose=Purpose.DEPOSIT, token=None, price_tier=None
        )
        assert kinds(ledger)[-1] == Ledger.AuthorizationFailed
        assert not ledger.pending

    @pytest.mark.parametrize(
        ("first", "asked", "why"),
        [
            (None, eur(0), "a deposit of zero needs no authorisation"),
            (eur(100), Money(5000, "USD"), "this booking's payments are in EUR, not USD"),
        ],
    )
    def test_a_request_that_cannot_be_paid_fails_at_once_with_its_reason(
        self, first: Money | None, asked: Money, why: str
    ) -> None:
        ledger = Ledger(tenant_id="t", booking_id="b-1")
        if first is not None:  # a fee charged earlier fixed the ledger's currency
            ledger.booking_no_show(first)
        ledger.request_payment(
            amount=asked, purpose=Purpose.DEPOSIT, token="tok_visa", price_tier=None
        )
        assert kinds(ledger)[-1] == Ledger.AuthorizationFailed
        failed = [p for p in ledger.payments.values() if p.purpose is Purpose.DEPOSIT]
        assert [(p.status, p.detail, p.amount, p.currency) for p in failed] == [
            (PaymentStatus.FAILED, why, asked.amount_minor, asked.currency)
        ]
        assert not [o for o in ledger.pending.values() if o.kind is OperationKind.AUTHORIZE]

    def test_a_second_currency_is_refused(self) -> None:
        ledger = captured()
        with pytest.raises(CurrencyMismatch):
            ledger.booking_cancelled(fee=Money(100, "USD"), refund=None, reason="")


class TestGatewayFactsApplyOnce:
    def test_a_repeated_authorisation_or_refusal_after_it_changes_nothing(self) -> None:
        ledger = authorised()
        kinds(ledger)
        payment_id = next(iter(ledger.payments))
        ledger.learn(Authorized(payment_id, "pi_1", 5000, "simulated"), TERMS)
        ledger.learn(AuthorizationRefused(payment_id, FailureReason.DECLINED), TERMS)
        assert kinds(ledger) == []
        assert ledger.payments[payment_id].status is PaymentStatus.AUTHORIZED

    def test_a_capture_heard_before_the_authorisation_records_both_in_order(self) -> None:
        ledger = Ledger(tenant_id="t", booking_id="b-1")
        ledger.request_payment(
            amount=eur(5000), purpose=Purpose.DEPOSIT, token="tok", price_tier=None
        )
        payment_id = next(iter(ledger.payments))
        kinds(ledger)
        ledger.learn(Captured(payment_id, "pi_1", 5000, "simulated"), TERMS)
        ledger.learn(Authorized(payment_id, "pi_1", 5000, "simulated"), TERMS)  # late, stale
        assert kinds(ledger) == [Ledger.Authorized, Ledger.Captured, Ledger.ReceiptIssued]

    def test_a_refund_heard_twice_is_recorded_once_with_one_receipt(self) -> None:
        ledger = captured()
        ledger.booking_cancelled(fee=None, refund=eur(5000), reason="inside the window")
        refund = pending(ledger, OperationKind.REFUND)
        assert refund.refund_id is not None
        fact = Refunded(refund.payment_id, refund.refund_id, 5000, "re_1")
        ledger.learn(fact, TERMS)
        ledger.learn(fact, TERMS)
        assert kinds(ledger) == [Ledger.OperationRequested, Ledger.Refunded, Ledger.ReceiptIssued]
        assert not ledger.pending

    def test_a_fact_that_contradicts_the_ledger_is_refused(self) -> None:
        ledger = Ledger(tenant_id="t", booking_id="b-1")
        ledger.request_payment(
            amount=eur(5000), purpose=Purpose.DEPOSIT, token="tok", price_tier=None
        )
        payment_id = next(iter(ledger.payments))
        with pytest.raises(FactMismatch, match="authorised 1, asked 5000"):
            ledger.learn(Authorized(payment_id, "pi_1", 1, "simulated"), TERMS)
        ledger.learn(Authorized(payment_id, "pi_1", 5000, "simulated"), TERMS)
        with pytest.raises(FactMismatch, match="not pi_other"):
            ledger.learn(Captured(payment_id, "pi_other", 5000, "simulated"), TERMS)
        with pytest.raises(FactMismatch, match="captured 9000 of 5000"):
            ledger.learn(Captured(payment_id, "pi_1", 9000, "simulated"), TERMS)
        assert ledger.payments[payment_id].status is PaymentStatus.AUTHORIZED

    def test_a_fact_about_a_payment_never_asked_for_is_refused(self) -> None:
        with pytest.raises(UnknownPayment):
            authorised().learn(Voided("someone-else"), TERMS)

    def test_a_stalled_call_stays_pending_for_reconciliation(self) -> None:
        ledger = authorised()
        ledger.booking_confirmed()
        capture = pending(ledger, OperationKind.CAPTURE)
        ledger.learn(OperationStalled(capture.key, "unavailable"), TERMS)
        assert capture.key in ledger.pending
        assert ledger.stalls[capture.key] == 1

    def test_an_authorisation_after_a_reported_failure_is_given_back(self) -> None:
        ledger = Ledger(tenant_id="t", booking_id="b-1")
        ledger.request_payment(
            amount=eur(5000), purpose=Purpose.DEPOSIT, token="tok", price_tier=None
        )
        payment_id = next(iter(ledger.payments))
        ledger.learn(
            AuthorizationRefused(payment_id, FailureReason.NETWORK_TIMEOUT, retryable=True), TERMS
        )
        kinds(ledger)
        ledger.learn(Authorized(payment_id, "pi_1", 5000, "simulated"), TERMS)
        assert kinds(ledger) == [Ledger.AuthorizedLate, Ledger.OperationRequested]
        assert pending(ledger, OperationKind.VOID).reference == "pi_1"


class TestBookingDecisions:
    def test_confirmation_captures_the_whole_deposit_once(self) -> None:
        ledger = authorised()
        ledger.booking_confirmed()
        ledger.booking_confirmed()
        assert [op.kind for op in ledger.pending.values()] == [OperationKind.CAPTURE]
        assert pending(ledger, OperationKind.CAPTURE).amount == 5000

    def test_confirmation_before_the_authorisation_captures_when_it_arrives(self) -> None:
        ledger = Ledger(tenant_id="t", booking_id="b-1")
        ledger.request_payment(
            amount=eur(5000), purpose=Purpose.DEPOSIT, token="tok", price_tier=None
        )
        ledger.booking_confirmed()
        payment_id = next(iter(ledger.payments))
        ledger.learn(Authorized(payment_id, "pi_1", 5000, "simulated"), TERMS)
        assert pending(ledger, OperationKind.CAPTURE).reference == "pi_1"

    def test_an_expired_booking_voids_its_authorisation(self) -> None:
        ledger = authorised()
        ledger.booking_released("booking expired")
        assert [op.kind for op in ledger.pending.values()] == [OperationKind.VOID]

    def test_cancelling_inside_the_window_refunds_what_booking_says(self) -> None:
        ledger = captured()
        ledger.booking_cancelled(fee=None, refund=eur(5000), reason="inside")
        assert pending(ledger, OperationKind.REFUND).amount == 5000
        assert not ledger.fees

    def test_cancelling_late_keeps_the_fee_from_the_deposit_and_refunds_the_rest(self) -> None:
        ledger = captured()
        ledger.booking_cancelled(fee=eur(2000), refund=eur(3000), reason="late")
        assert pending(ledger, OperationKind.REFUND).amount == 3000
        fee = ledger.fees["late_cancellation"]
        assert (fee.settled, fee.retained, fee.charged) == (True, 2000, 0)
        assert Ledger.PaymentRequested not in kinds(ledger)  # nothing new charged

    def test_a_cancellation_while_the_capture_is_in_flight_refunds_once_it_lands(self) -> None:
        ledger = authorised()
        ledger.booking_confirmed()
        ledger.booking_cancelled(fee=eur(1000), refund=eur(4000), reason="late")
        assert not ledger.fees["late_cancellation"].settled
        capture = pending(ledger, OperationKind.CAPTURE)
        ledger.learn(Captured(capture.payment_id, "pi_1", 5000, "simulated"), TERMS)
        assert pending(ledger, OperationKind.REFUND).amount == 4000
        assert ledger.fees["late_cancellation"].retained == 1000

    def test_cancelling_an_authorised_deposit_with_a_fee_captures_only_the_fee(self) -> None:
        ledger = authorised()
        ledger.booking_cancelled(fee=eur(1500), refund=None, reason="late")
        assert pending(ledger, OperationKind.CAPTURE).amount == 1500

    def test_a_fee_beyond_the_deposit_is_charged_to_the_token_on_file(self) -> None:
        ledger = captured(1000)
        ledger.booking_no_show(eur(3000))
        charge = pending(ledger, OperationKind.CHARGE)
        assert (charge.amount, charge.token) == (2000, "tok_visa")
        ledger.learn(Captured(charge.payment_id, "pi_2", 2000, "simulated"), TERMS)
        fee = ledger.fees["no_show"]
        assert (fee.retained, fee.charged) == (1000, 2000)

    def test_a_fee_with_nothing_held_and_no_token_is_recorded_as_not_collected(self) -> None:
        ledger = Ledger(tenant_id="t", booking_id="b-1")
        ledger.booking_no_show(eur(2500))
        assert kinds(ledger)[-2:] == [Ledger.FeeCharged, Ledger.FeeNotCollected]

    def test_each_change_beyond_the_free_ones_has_its_own_fee_once(self) -> None:
        ledger = captured()
        ledger.booking_rescheduled(2, eur(500))
        ledger.booking_rescheduled(2, eur(500))
        ledger.booking_rescheduled(3, eur(500))
        assert sorted(ledger.fees) == ["change-2", "change-3"]


# Every event a ledger has ever stored, by the name it is stored under.
STORED_EVENTS = [
    "Opened",
    "ContactNoted",
    "PaymentRequested",
    "OperationRequested",
    "RefundPlanned",
    "OperationStalled",
    "Planned",
    "Authorized",
    "AuthorizedLate",
    "AuthorizationFailed",
    "Captured",
    "Voided",
    "Refunded",
    "FeeAssessed",
    "FeeCharged",
    "FeeNotCollected",
    "ReceiptIssued",
]


class TestStoredLedgersStillLoad:
    @pytest.mark.parametrize("name", STORED_EVENTS)
    def test_a_ledger_event_keeps_the_topic_it_is_stored_under(self, name: str) -> None:
        """The rules moved beside the ledger; its events did not: a stored event is read
        back by this topic (module and qualified name), so a move would strand it."""
        topic = f"slotline.payments.domain.ledger:Ledger.{name}"
        assert get_topic(getattr(Ledger, name)) == topic
        assert resolve_topic(topic) is getattr(Ledger, name)

    def test_a_ledger_is_stored_under_the_topic_it_always_had(self) -> None:
        assert get_topic(Ledger) == "slotline.payments.domain.ledger:Ledger"
