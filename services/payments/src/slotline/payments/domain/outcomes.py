"""What the gateway reports, taken into a ledger: each fact once, in any order.

A fact may come as the answer to a call, in a webhook (twice, or out of order) or from
reconciliation; repeated, stale or out-of-order facts change nothing. A fact that
contradicts what the ledger asked for is never applied. Money taken comes with a receipt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from slotline.payments.domain import facts, fees, requesting
from slotline.payments.domain.facts import (
    AuthorizationRefused,
    Authorized,
    Captured,
    FailureReason,
    GatewayFact,
    OperationStalled,
    Refunded,
    Voided,
)
from slotline.payments.domain.operations import OperationKind
from slotline.payments.domain.payment import Payment, PaymentStatus, ReceiptTerms, Then

if TYPE_CHECKING:
    from slotline.payments.domain.ledger import Ledger


class UnknownPayment(LookupError):
    """A fact about a payment this ledger never asked for."""


class FactMismatch(ValueError):
    """A fact that contradicts what the ledger asked for: another amount, or another
    gateway payment than the one it knows. Never applied (a forged or confused report)."""


def learn(ledger: Ledger, fact: GatewayFact, terms: ReceiptTerms) -> None:
    """Apply a gateway fact once; repeated, stale or out-of-order facts change nothing."""
    if isinstance(fact, OperationStalled):
        if fact.key in ledger.pending:
            ledger._operation_stalled(key=fact.key, error=fact.error[:300])
        return
    payment = ledger.payments.get(fact.payment_id)
    if payment is None:
        raise UnknownPayment(f"ledger of {ledger.booking_id} has no payment {fact.payment_id}")
    _check_matches(payment, fact)
    match fact:
        case Authorized():
            _learn_authorized(ledger, payment, fact.reference, fact.gateway)
        case AuthorizationRefused():
            if payment.status is PaymentStatus.AUTHORIZING:
                ledger._authorization_failed(
                    payment_id=payment.payment_id,
                    reason=fact.reason.value,
                    detail=fact.detail[:500],
                    retryable=fact.retryable,
                )
        case Captured():
            _learn_captured(ledger, payment, fact, terms)
        case Voided():
            _learn_voided(ledger, payment)
        case Refunded():
            _learn_refunded(ledger, payment, fact, terms)
    fees.settle_fees(ledger)


def _learn_authorized(ledger: Ledger, payment: Payment, reference: str, gateway: str) -> None:
    if payment.status is PaymentStatus.AUTHORIZING:
        ledger._authorized(payment_id=payment.payment_id, reference=reference, gateway=gateway)
        if payment.then is Then.CAPTURE:
            requesting.request(ledger, OperationKind.CAPTURE, payment, payment.then_amount)
        elif payment.then is Then.VOID:
            requesting.void(ledger, payment)
    elif payment.status is PaymentStatus.FAILED and not payment.late:
        # Reported failed (e.g. timed out), yet the network reserved it: give it back.
        ledger._authorized_late(payment_id=payment.payment_id, reference=reference)
        requesting.void(ledger, payment)


def _learn_captured(
    ledger: Ledger, payment: Payment, fact: facts.Captured, terms: ReceiptTerms
) -> None:
    if payment.status in {PaymentStatus.AUTHORIZING, PaymentStatus.FAILED}:
        _learn_authorized(ledger, payment, fact.reference, fact.gateway)
    if payment.status is not PaymentStatus.AUTHORIZED or fact.amount <= 0:
        return  # already captured, or voided: nothing new
    owed = list(payment.refunds_after_capture.items())
    ledger._captured(payment_id=payment.payment_id, amount=fact.amount)
    _issue_receipt(ledger, payment, fact.amount, None, terms)
    for name, (amount, reason) in owed:
        requesting.refund(ledger, payment, name, amount, reason)
    if payment.late:  # money taken for a booking told the payment failed: return it
        requesting.refund(
            ledger, payment, f"late-{payment.payment_id}", fact.amount, "payment had failed"
        )


def _learn_voided(ledger: Ledger, payment: Payment) -> None:
    if payment.status is PaymentStatus.AUTHORIZED:
        ledger._voided(payment_id=payment.payment_id)
    elif payment.status is PaymentStatus.AUTHORIZING:
        ledger._authorization_failed(
            payment_id=payment.payment_id,
            reason=FailureReason.PROCESSING_ERROR.value,
            detail="cancelled at the gateway before it was authorised",
            retryable=False,
        )


def _learn_refunded(
    ledger: Ledger, payment: Payment, fact: facts.Refunded, terms: ReceiptTerms
) -> None:
    if payment.status is not PaymentStatus.CAPTURED or fact.refund_id in payment.refunds:
        return
    request = next((op for op in ledger.pending.values() if op.refund_id == fact.refund_id), None)
    ledger._refunded(
        payment_id=payment.payment_id,
        refund_id=fact.refund_id,
        amount=fact.amount,
        reason=request.reason if request else "refunded at the gateway",
    )
    _issue_receipt(ledger, payment, fact.amount, fact.refund_id, terms)


def _issue_receipt(
    ledger: Ledger, payment: Payment, amount: int, refund_id: str | None, terms: ReceiptTerms
) -> None:
    ledger.issue_receipt(terms.receipt_for(payment, amount, refund_id))


def _check_matches(payment: Payment, fact: GatewayFact) -> None:
    """An authorisation is of the amount asked for; a capture takes at most that; both
    name the gateway payment the ledger knows, once it knows one."""
    if isinstance(fact, Authorized) and fact.amount != payment.amount:
        raise FactMismatch(
            f"payment {payment.payment_id}: authorised {fact.amount}, asked {payment.amount}"
        )
    if isinstance(fact, Captured) and not 0 <= fact.amount <= payment.amount:
        raise FactMismatch(
            f"payment {payment.payment_id}: captured {fact.amount} of {payment.amount}"
        )
    reference = getattr(fact, "reference", None)
    if payment.reference and reference and reference != payment.reference:
        raise FactMismatch(
            f"payment {payment.payment_id} is {payment.reference} at the gateway, not {reference}"
        )
