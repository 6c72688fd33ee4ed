"""A price tier's booking policy and the decisions it makes: deposits, cancellation
fees and refunds, no-show fees, change fees. Booking owns the policy and applies it;
payments carries the money decisions out."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from slotline.booking.domain.money import Money

POLICY_NAMESPACE = uuid5(NAMESPACE_URL, "https://slotline.dev/booking/policy")


class PaymentRequirement(StrEnum):
    NONE = "none"
    DEPOSIT = "deposit"
    PREPAYMENT = "prepayment"


@dataclass(frozen=True)
class Policy:
    """What a tier costs and what changing your mind costs."""

    payment: PaymentRequirement = PaymentRequirement.NONE
    price: Money | None = None
    deposit: Money | None = None
    deposit_percent: int | None = None
    tax_rate_basis_points: int = 0
    taxes_included: bool = True
    free_cancellation_hours: int = 24
    late_cancellation_fee: Money | None = None
    no_show_fee: Money | None = None
    free_changes: int = 3
    change_fee: Money | None = None
    currency: str = field(init=False, default="EUR")

    def __post_init__(self) -> None:
        amounts = [
            m
            for m in (
                self.price,
                self.deposit,
                self.late_cancellation_fee,
                self.no_show_fee,
                self.change_fee,
            )
            if m is not None
        ]
        currencies = {m.currency for m in amounts}
        if len(currencies) > 1:
            raise ValueError(f"one tier, one currency: got {sorted(currencies)}")
        if currencies:
            object.__setattr__(self, "currency", currencies.pop())
        if self.payment is PaymentRequirement.PREPAYMENT and self.price is None:
            raise ValueError("prepayment needs a price")
        if self.payment is PaymentRequirement.DEPOSIT:
            if (self.deposit is None) == (self.deposit_percent is None):
                raise ValueError("a deposit is either a fixed amount or a percentage")
            if self.deposit_percent is not None and self.price is None:
                raise ValueError("a percentage deposit needs a price")
        if self.deposit_percent is not None and not 1 <= self.deposit_percent <= 100:
            raise ValueError("deposit_percent must be within 1..100")
        if self.free_cancellation_hours < 0 or self.free_changes < 0:
            raise ValueError("windows and counts cannot be negative")

    def nothing_due_first(self) -> bool:
        """Whether a booking under this policy stands as soon as its slot is held (no
        deposit, no prepayment; a deposit it cannot work out is not "nothing")."""
        try:
            return self.amount_due() is None
        except ValueError:
            return False

    def amount_due(self) -> Money | None:
        """What must be authorised before the booking is confirmed (None: nothing)."""
        match self.payment:
            case PaymentRequirement.NONE:
                return None
            case PaymentRequirement.PREPAYMENT:
                return self.price
            case PaymentRequirement.DEPOSIT:
                if self.deposit is not None:
                    return self.deposit
                if self.price is None or self.deposit_percent is None:
                    raise ValueError("a percentage deposit needs a price")
                return self.price.percent(self.deposit_percent)
        return None  # pragma: no cover

    def price_tax(self) -> Money | None:
        """The tax in the price: the share of it when taxes are included, else on top of
        it; rounded half up to the minor unit (None: no price or no tax)."""
        if self.price is None or not self.tax_rate_basis_points:
            return None
        rate, base = self.tax_rate_basis_points, self.price.amount_minor
        if self.taxes_included:
            minor = (base * rate + (10000 + rate) // 2) // (10000 + rate)
        else:
            minor = (base * rate + 5000) // 10000
        return Money(minor, self.price.currency)

    def missing_payment(self, payment_token: str | None) -> str | None:
        """Why a request without a payment token cannot go ahead (None: it can)."""
        due = self.amount_due()
        if due is None or payment_token:
            return None
        amount = f"{due.amount_minor / 100:.2f} {due.currency}"
        return f"a {self.payment.value} of {amount} is due: send a payment_token"

    def free_cancellation_until(self, start: datetime) -> datetime:
        return start - timedelta(hours=self.free_cancellation_hours)

    def cancellation(self, start: datetime, now: datetime, paid: Money | None) -> Cancellation:
        """Inside the free window everything paid goes back; later the late-cancellation
        fee is kept (from what was paid, the rest refunded)."""
        if now <= self.free_cancellation_until(start):
            return Cancellation(within_free_window=True, fee=None, refund=paid)
        fee = self.late_cancellation_fee
        refund = paid.minus(fee) if paid is not None and fee is not None else paid
        return Cancellation(
            within_free_window=False,
            fee=fee,
            refund=refund if refund is None or refund.amount_minor > 0 else None,
        )

    def change_fee_for(self, change_number: int) -> Money | None:
        """The first ``free_changes`` moves are free; each later one costs the fee."""
        return self.change_fee if change_number > self.free_changes else None

    def to_data(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("currency")
        data["payment"] = self.payment.value
        return data

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Policy:
        values = dict(data)
        values.pop("currency", None)
        values["payment"] = PaymentRequirement(values.get("payment", "none"))
        for name in ("price", "deposit", "late_cancellation_fee", "no_show_fee", "change_fee"):
            values[name] = Money.from_data(values.get(name))
        return cls(**values)


@dataclass(frozen=True)
class Cancellation:
    """The policy's decision on one cancellation, for payments to carry out."""

    within_free_window: bool
    fee: Money | None
    refund: Money | None


class PolicyTier(Aggregate):
    """The policy of one price tier of one tenant; redefining it affects new bookings
    only (a booking keeps the policy it was made under)."""

    @staticmethod
    def create_id(tenant_id: str, tier: str) -> UUID:
        return uuid5(POLICY_NAMESPACE, f"{tenant_id}:{tier}")

    class Defined(Aggregate.Created):
        """A price tier got its first policy."""

        tenant_id: str
        tier: str
        policy: dict[str, Any]

    @event(Defined)
    def __init__(self, tenant_id: str, tier: str, policy: dict[str, Any]) -> None:
        self.tenant_id = tenant_id
        self.tier = tier
        self.policy_data = policy

    class Redefined(Aggregate.Event):
        """The tier's policy changed (for bookings made from now on)."""

        policy: dict[str, Any]

    @event(Redefined)
    def redefine(self, policy: dict[str, Any]) -> None:
        self.policy_data = policy

    @property
    def policy(self) -> Policy:
        return Policy.from_data(self.policy_data)
