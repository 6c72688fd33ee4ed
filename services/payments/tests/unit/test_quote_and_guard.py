"""Quotes split price and tax in whole cents; card numbers are recognised wherever they hide."""

from __future__ import annotations

import json

import pytest

from slotline.payments.domain.money import Money, tax_included_in, tax_on
from slotline.payments.domain.quote import Requirement, TaxTerms, TierPolicy, quote
from slotline.payments.http.card_guard import card_shaped_fields, has_card_number

pytestmark = pytest.mark.unit


def tier(**changes: object) -> TierPolicy:
    values: dict[str, object] = {
        "price_tier": "standard",
        "price": Money(12400, "EUR"),
        "tax": TaxTerms(2400, True),
        "requirement": Requirement.DEPOSIT,
        "deposit": None,
        "deposit_percent": 25,
        "free_cancellation_hours": 24,
        "late_cancellation_fee": Money(2000, "EUR"),
        "no_show_fee": None,
        "free_changes": 1,
        "change_fee": None,
    }
    return TierPolicy(**(values | changes))  # type: ignore[arg-type]  # fields of several types


class TestMoney:
    def test_floats_are_refused(self) -> None:
        with pytest.raises(TypeError):
            Money(12.5, "EUR")  # type: ignore[arg-type]  # a float on purpose: it is refused

    def test_tax_is_rounded_half_up_in_whole_cents(self) -> None:
        assert tax_included_in(12400, 2400) == 2400
        assert tax_included_in(5000, 2400) == 968  # 967.74…
        assert tax_on(10000, 2400) == 2400
        assert tax_on(1, 5000) == 1  # half a cent rounds up


class TestQuote:
    def test_an_inclusive_price_shows_its_tax_and_a_percentage_deposit(self) -> None:
        offer = quote(tier())
        assert (offer.net, offer.tax, offer.total) == (
            Money(10000, "EUR"),
            Money(2400, "EUR"),
            Money(12400, "EUR"),
        )
        assert offer.due_now == Money(3100, "EUR")
        assert offer.due_at_visit == Money(9300, "EUR")

    def test_tax_on_top_raises_the_total_and_prepayment_takes_it_all(self) -> None:
        offer = quote(tier(tax=TaxTerms(2400, False), requirement=Requirement.PREPAYMENT))
        assert offer.total == Money(15376, "EUR")
        assert offer.due_now == offer.total
        assert offer.due_at_visit == Money(0, "EUR")

    def test_the_summary_states_the_policy(self) -> None:
        lines = quote(tier(change_fee=Money(500, "EUR"))).summary()
        assert "A deposit of 31.00 EUR is charged when you book." in lines
        assert any("24 h" in line and "20.00 EUR" in line for line in lines)
        assert any("1 free change(s)" in line for line in lines)


class TestCardNumbers:
    @pytest.mark.parametrize(
        "text", ["4242424242424242", "4242 4242 4242 4242", "card: 5555-5555-5555-4444!"]
    )
    def test_luhn_valid_digit_runs_are_card_numbers(self, text: str) -> None:
        assert has_card_number(text)

    @pytest.mark.parametrize(
        "text", ["1732375932", "4242424242424241", "pi_3MtwBwLkdIwHu7ix", "2026-12-01"]
    )
    def test_timestamps_ids_and_non_luhn_runs_are_not(self, text: str) -> None:
        assert not has_card_number(text)

    def test_the_field_holding_it_is_named(self) -> None:
        body = json.dumps({"payer": {"cards": ["x", "4242 4242 4242 4242"]}, "amount": 10}).encode()
        assert card_shaped_fields(body, {"tier": "gold"}) == ["payer.cards[1]"]
        assert card_shaped_fields(b"not json 4242424242424242", {}) == ["body"]
        assert card_shaped_fields(b"", {"tier": "4242424242424242"}) == ["query.tier"]
