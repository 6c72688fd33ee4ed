"""The one summary a customer sees before committing: price, taxes, deposit, policy.

Booking owns a tier's policy (``PolicyDefined``); payments keeps a copy and turns it
into a quote. The arithmetic lives here so receipts and quotes split tax the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from slotline.payments.domain.money import Money, share_of, tax_included_in, tax_on


class Requirement(StrEnum):
    """What a tier asks for before a booking is confirmed."""

    NONE = "none"
    DEPOSIT = "deposit"
    PREPAYMENT = "prepayment"


@dataclass(frozen=True, slots=True)
class TaxTerms:
    """How a tier's prices carry tax."""

    rate_basis_points: int = 0
    included: bool = True

    def tax_in_paid(self, gross: int) -> int:
        """Tax inside an amount actually paid (a payment always pays gross)."""
        return tax_included_in(gross, self.rate_basis_points)


@dataclass(frozen=True, slots=True)
class TierPolicy:
    """A price tier's policy as booking defined it."""

    price_tier: str
    price: Money | None
    tax: TaxTerms
    requirement: Requirement
    deposit: Money | None
    deposit_percent: int | None
    free_cancellation_hours: int
    late_cancellation_fee: Money | None
    no_show_fee: Money | None
    free_changes: int
    change_fee: Money | None


@dataclass(frozen=True, slots=True)
class Quote:
    """What the customer pays, when, and what cancelling or changing costs."""

    policy: TierPolicy
    net: Money | None
    tax: Money | None
    total: Money | None
    due_now: Money | None
    due_at_visit: Money | None

    def summary(self) -> list[str]:
        """The policy in plain sentences, in the order a customer reads them."""
        p = self.policy
        lines: list[str] = []
        if self.total is not None and self.tax is not None:
            rate = p.tax.rate_basis_points / 100
            lines.append(f"Price {self.total} including {self.tax} tax ({rate:g} %).")
        if p.requirement is Requirement.NONE or self.due_now is None:
            lines.append("Nothing is charged now; pay at the visit.")
        elif p.requirement is Requirement.PREPAYMENT:
            lines.append(f"The full price, {self.due_now}, is charged when you book.")
        else:
            lines.append(f"A deposit of {self.due_now} is charged when you book.")
        hours = p.free_cancellation_hours
        late = (
            f"; later, a fee of {p.late_cancellation_fee} applies"
            if p.late_cancellation_fee
            else ""
        )
        lines.append(f"Free cancellation up to {hours} h before the appointment{late}.")
        if p.no_show_fee:
            lines.append(f"Not showing up costs {p.no_show_fee}.")
        if p.change_fee:
            lines.append(
                f"{p.free_changes} free change(s); each further change costs {p.change_fee}."
            )
        else:
            lines.append("Changes are free.")
        return lines


def quote(policy: TierPolicy) -> Quote:
    """Split price and tax, and work out the deposit the tier asks for."""
    price = policy.price
    if price is None:
        return Quote(policy, None, None, None, _fixed_only(policy), None)
    rate = policy.tax.rate_basis_points
    if policy.tax.included:
        tax = tax_included_in(price.amount_minor, rate)
        total = price.amount_minor
    else:
        tax = tax_on(price.amount_minor, rate)
        total = price.amount_minor + tax
    currency = price.currency
    due = _due_now(policy, total)
    due_now = Money(min(due, total), currency)
    return Quote(
        policy,
        net=Money(total - tax, currency),
        tax=Money(tax, currency),
        total=Money(total, currency),
        due_now=due_now,
        due_at_visit=Money(total - due_now.amount_minor, currency),
    )


def _due_now(policy: TierPolicy, total: int) -> int:
    if policy.requirement is Requirement.PREPAYMENT:
        return total
    if policy.requirement is Requirement.NONE:
        return 0
    if policy.deposit is not None:
        return policy.deposit.amount_minor
    return share_of(total, policy.deposit_percent or 0)


def _fixed_only(policy: TierPolicy) -> Money | None:
    """Without a price only a fixed deposit can be quoted."""
    if policy.requirement is Requirement.DEPOSIT and policy.deposit is not None:
        return policy.deposit
    return None
