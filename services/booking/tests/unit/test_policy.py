"""The policy's money decisions: what is due, what a cancellation costs, change fees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from slotline.booking.domain.money import CurrencyMismatch, Money
from slotline.booking.domain.policy import PaymentRequirement, Policy

pytestmark = pytest.mark.unit

START = datetime(2026, 12, 10, 10, tzinfo=UTC)
EUR = "EUR"


def eur(minor: int) -> Money:
    return Money(minor, EUR)


class TestWhatIsDue:
    def test_nothing_without_a_payment_requirement(self) -> None:
        assert Policy(price=eur(6000)).amount_due() is None

    def test_a_fixed_deposit(self) -> None:
        policy = Policy(payment=PaymentRequirement.DEPOSIT, deposit=eur(2000))
        assert policy.amount_due() == eur(2000)

    def test_a_percentage_deposit_rounds_half_up(self) -> None:
        policy = Policy(payment=PaymentRequirement.DEPOSIT, price=eur(4999), deposit_percent=30)
        assert policy.amount_due() == eur(1500)

    def test_prepayment_is_the_price(self) -> None:
        policy = Policy(payment=PaymentRequirement.PREPAYMENT, price=eur(6000))
        assert policy.amount_due() == eur(6000)

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"payment": PaymentRequirement.PREPAYMENT},
            {"payment": PaymentRequirement.DEPOSIT},
            {"payment": PaymentRequirement.DEPOSIT, "deposit": eur(1), "deposit_percent": 10},
            {"price": eur(100), "no_show_fee": Money(100, "USD")},
        ],
    )
    def test_an_inconsistent_policy_is_refused(self, kwargs: dict[str, object]) -> None:
        with pytest.raises(ValueError, match=r"."):
            Policy(**kwargs)  # type: ignore[arg-type]  # each case names its own fields


class TestCancellation:
    policy = Policy(
        payment=PaymentRequirement.DEPOSIT,
        deposit=eur(2000),
        free_cancellation_hours=24,
        late_cancellation_fee=eur(1500),
    )

    def test_inside_the_window_everything_paid_goes_back(self) -> None:
        decision = self.policy.cancellation(START, START - timedelta(hours=24), eur(2000))
        assert decision.within_free_window
        assert decision.fee is None
        assert decision.refund == eur(2000)

    def test_after_the_window_the_fee_is_kept_and_the_rest_refunded(self) -> None:
        decision = self.policy.cancellation(START, START - timedelta(hours=23), eur(2000))
        assert not decision.within_free_window
        assert decision.fee == eur(1500)
        assert decision.refund == eur(500)

    def test_a_fee_larger_than_what_was_paid_refunds_nothing(self) -> None:
        decision = self.policy.cancellation(START, START - timedelta(hours=1), eur(1000))
        assert decision.fee == eur(1500)
        assert decision.refund is None

    def test_nothing_paid_nothing_refunded(self) -> None:
        decision = self.policy.cancellation(START, START - timedelta(hours=1), None)
        assert decision.refund is None


class TestChanges:
    def test_the_first_changes_are_free_then_each_costs_the_fee(self) -> None:
        policy = Policy(free_changes=2, change_fee=eur(500))
        assert [policy.change_fee_for(n) for n in (1, 2, 3, 4)] == [None, None, eur(500), eur(500)]


class TestMoney:
    def test_amounts_of_different_currencies_do_not_mix(self) -> None:
        with pytest.raises(CurrencyMismatch):
            eur(100).minus(Money(100, "USD"))

    def test_a_policy_survives_its_stored_form(self) -> None:
        policy = Policy(payment=PaymentRequirement.DEPOSIT, price=eur(5000), deposit_percent=20)
        assert Policy.from_data(policy.to_data()) == policy


class TestPaymentToken:
    def test_a_due_deposit_without_a_token_says_what_is_due(self) -> None:
        policy = Policy(payment=PaymentRequirement.DEPOSIT, deposit=eur(2000))
        assert policy.missing_payment(None) == "a deposit of 20.00 EUR is due: send a payment_token"
        assert policy.missing_payment("tok_visa") is None
        assert Policy().missing_payment(None) is None


class TestTaxInThePrice:
    def test_included_tax_is_the_share_of_the_price(self) -> None:
        policy = Policy(price=Money(12400, "EUR"), tax_rate_basis_points=2400)
        assert policy.price_tax() == Money(2400, "EUR")

    def test_tax_on_top_is_added_to_the_price(self) -> None:
        policy = Policy(price=Money(10000, "EUR"), tax_rate_basis_points=2400, taxes_included=False)
        assert policy.price_tax() == Money(2400, "EUR")

    def test_a_half_cent_rounds_up(self) -> None:
        policy = Policy(price=Money(1, "EUR"), tax_rate_basis_points=5000, taxes_included=False)
        assert policy.price_tax() == Money(1, "EUR")

    def test_no_price_or_no_rate_is_no_tax(self) -> None:
        assert Policy(tax_rate_basis_points=2400).price_tax() is None
        assert Policy(price=Money(5000, "EUR")).price_tax() is None
