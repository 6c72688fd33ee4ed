"""The entries of a ledger: payments, fees and receipts (state evolved by the ledger)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum

from slotline.payments.domain.quote import TaxTerms


class PaymentStatus(StrEnum):
    """authorizing ──▶ authorized ──▶ captured ; authorized ──▶ voided ; authorizing ──▶ failed"""

    AUTHORIZING = "authorizing"
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    VOIDED = "voided"
    FAILED = "failed"


class Purpose(StrEnum):
    """Why money is taken."""

    DEPOSIT = "deposit"
    PREPAYMENT = "prepayment"
    FEE = "fee"  # a policy fee beyond what the booking's payment holds


class FeeKind(StrEnum):
    LATE_CANCELLATION = "late_cancellation"
    NO_SHOW = "no_show"
    CHANGE = "change"


class Then(StrEnum):
    """What to do with a payment as soon as its authorisation arrives."""

    CAPTURE = "capture"
    VOID = "void"


@dataclass
class Payment:
    """One authorisation on the customer's payment method, and what became of it."""

    payment_id: str
    purpose: Purpose
    amount: int
    token: str | None
    status: PaymentStatus = PaymentStatus.AUTHORIZING
    gateway: str = ""
    reference: str | None = None
    captured: int = 0
    refunds: dict[str, int] = field(default_factory=dict)
    failure: str | None = None
    detail: str = ""
    then: Then | None = None
    then_amount: int = 0
    late: bool = False  # authorised after it was reported failed: never published as such
    refunds_after_capture: dict[str, tuple[int, str]] = field(default_factory=dict)
    currency: str | None = None  # as asked; only a refused request's can differ from the ledger's

    @property
    def refunded(self) -> int:
        return sum(self.refunds.values())

    @property
    def standing(self) -> bool:
        """Holds or may still hold money."""
        return self.status in {
            PaymentStatus.AUTHORIZING,
            PaymentStatus.AUTHORIZED,
            PaymentStatus.CAPTURED,
        }


@dataclass
class Fee:
    """A policy fee booking decided; collected from held money first, then by a charge."""

    fee_id: str
    kind: FeeKind
    amount: int
    charge_payment_id: str | None = None
    settled: bool = False
    retained: int = 0
    charged: int = 0

    @property
    def collected(self) -> int:
        return self.retained + self.charged


@dataclass(frozen=True)
class Receipt:
    """A payment's or refund's receipt, frozen when issued (its link is stable).

    Not slotted: ``Ledger.ReceiptIssued`` extends it, and stored events are rebuilt
    through their ``__dict__``."""

    receipt_id: str
    payment_id: str
    refund_id: str | None
    amount: int
    tax: int
    tax_rate_basis_points: int
    taxes_included: bool
    issued_at: str
    description: str

    @property
    def is_refund(self) -> bool:
        return self.refund_id is not None

    @classmethod
    def copy_of(cls, receipt: Receipt) -> Receipt:
        """A plain receipt with the fields of ``receipt`` (e.g. of the event that carried it)."""
        return cls(**{f.name: getattr(receipt, f.name) for f in fields(cls)})


@dataclass(frozen=True, slots=True)
class ReceiptTerms:
    """What a receipt needs that the ledger does not know: tax terms (looked up only
    when a receipt is issued), a fresh id, now."""

    tax_terms: Callable[[], TaxTerms]
    new_id: Callable[[], str]
    now: Callable[[], datetime]

    def receipt_for(self, payment: Payment, amount: int, refund_id: str | None) -> Receipt:
        """The receipt of ``amount`` paid (or, with ``refund_id``, refunded) on ``payment``."""
        what = {
            Purpose.DEPOSIT: "Deposit",
            Purpose.PREPAYMENT: "Prepayment",
            Purpose.FEE: "Fee",
        }[payment.purpose]
        tax = self.tax_terms()
        return Receipt(
            receipt_id=self.new_id(),
            payment_id=payment.payment_id,
            refund_id=refund_id,
            amount=amount,
            tax=tax.tax_in_paid(amount),
            tax_rate_basis_points=tax.rate_basis_points,
            taxes_included=tax.included,
            issued_at=self.now().isoformat(),
            description=f"Refund of {what.lower()}" if refund_id else what,
        )
