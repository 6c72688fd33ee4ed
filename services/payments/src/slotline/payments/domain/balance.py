"""What a ledger's money comes to: held, coming in, being refunded, on file.

Read-only sums over a ledger's payments, pending operations and fees; the fee and
refund rules (`fees.py`, `operations.py`) decide with them, nothing here records.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from slotline.payments.domain.operations import OperationKind
from slotline.payments.domain.payment import Payment, PaymentStatus, Purpose, Then

if TYPE_CHECKING:
    from slotline.payments.domain.ledger import Ledger


def has_refund(ledger: Ledger, refund_id: str) -> bool:
    done = any(refund_id in p.refunds for p in ledger.payments.values())
    return done or any(op.refund_id == refund_id for op in ledger.pending.values())


def refunding(ledger: Ledger, payment_id: str | None = None) -> int:
    return sum(
        op.amount
        for op in ledger.pending.values()
        if op.kind is OperationKind.REFUND and payment_id in (None, op.payment_id)
    )


def capture_coming(ledger: Ledger, payment: Payment) -> bool:
    if ledger.pending_for(payment.payment_id, OperationKind.CAPTURE) is not None:
        return True
    return payment.status is PaymentStatus.AUTHORIZING and payment.then is Then.CAPTURE


def incoming(ledger: Ledger) -> int:
    """Money a planned or requested capture of the deposit will bring in, less the
    refunds already decided for when it arrives."""
    coming = -sum(
        amount
        for payment in ledger.payments.values()
        for amount, _ in payment.refunds_after_capture.values()
    )
    for payment in ledger.payments.values():
        if payment.purpose is Purpose.FEE:
            continue
        capture = ledger.pending_for(payment.payment_id, OperationKind.CAPTURE)
        if capture is not None:
            coming += capture.amount
        elif payment.status is PaymentStatus.AUTHORIZING and payment.then is Then.CAPTURE:
            coming += payment.then_amount
    return coming


def held_net(ledger: Ledger) -> int:
    """Captured booking money not refunded, nor being refunded, nor kept for fees."""
    captured = sum(
        p.captured - p.refunded for p in ledger.payments.values() if p.purpose is not Purpose.FEE
    )
    kept = sum(f.retained for f in ledger.fees.values() if f.settled)
    return captured - refunding(ledger) - kept


def token_on_file(ledger: Ledger) -> str | None:
    tokens = [p.token for p in ledger.payments.values() if p.token]
    return tokens[-1] if tokens else None


def waiting_for_capture(ledger: Ledger) -> bool:
    return any(
        ledger.pending_for(p.payment_id, OperationKind.CAPTURE) is not None
        or (p.status is PaymentStatus.AUTHORIZING and p.then is Then.CAPTURE)
        for p in ledger.payments.values()
        if p.purpose is not Purpose.FEE
    )
