"""How a ledger asks the gateway to move money: open a payment, capture, void, refund.

Each request is recorded in the ledger (as an operation with its idempotency key)
*before* the call is made; asked twice, a request is made once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import uuid5

from slotline.payments.domain import balance
from slotline.payments.domain.money import Money
from slotline.payments.domain.operations import Operation, OperationKind, operation_key
from slotline.payments.domain.payment import Payment, PaymentStatus, Purpose

if TYPE_CHECKING:
    from slotline.payments.domain.ledger import Ledger


def next_payment_id(ledger: Ledger) -> str:
    return str(uuid5(ledger.id, f"payment:{len(ledger.payments) + 1}"))


def _operation(
    ledger: Ledger, kind: OperationKind, payment_id: str, amount: int, **extra: Any
) -> Operation:
    assert ledger.currency is not None or "currency" in extra
    return Operation(
        kind=kind,
        key=operation_key(ledger.id, ledger.version + 1, kind),
        payment_id=payment_id,
        amount=amount,
        currency=extra.pop("currency", None) or ledger.currency or "",
        **extra,
    )


def open_payment(
    ledger: Ledger,
    payment_id: str,
    purpose: Purpose,
    amount: Money,
    token: str | None,
    price_tier: str | None,
) -> None:
    kind = OperationKind.CHARGE if purpose is Purpose.FEE else OperationKind.AUTHORIZE
    operation = None
    if token is not None:
        operation = _operation(
            ledger, kind, payment_id, amount.amount_minor, token=token, currency=amount.currency
        )
    ledger._payment_requested(
        payment_id=payment_id,
        purpose=purpose.value,
        amount=amount.amount_minor,
        currency=amount.currency,
        token=token,
        price_tier=price_tier,
        operation=operation.to_data() if operation else None,
    )


def request(
    ledger: Ledger, kind: OperationKind, payment: Payment, amount: int, **extra: Any
) -> None:
    operation = _operation(
        ledger, kind, payment.payment_id, amount, reference=payment.reference, **extra
    )
    ledger._operation_requested(operation=operation.to_data())


def void(ledger: Ledger, payment: Payment) -> None:
    if ledger.pending_for(payment.payment_id, OperationKind.VOID) is None:
        request(ledger, OperationKind.VOID, payment, 0)


def refund(ledger: Ledger, payment: Payment, name: str, amount: int, reason: str) -> None:
    """Refund once per ``name`` (e.g. "cancellation"): a repeated decision is ignored.
    Money still being captured is refunded as soon as the capture is in."""
    refund_id = str(uuid5(ledger.id, f"refund:{name}"))
    if balance.has_refund(ledger, refund_id):
        return
    if payment.status is not PaymentStatus.CAPTURED:
        if balance.capture_coming(ledger, payment) and name not in payment.refunds_after_capture:
            ledger._refund_planned(
                payment_id=payment.payment_id, name=name, amount=amount, reason=reason[:200]
            )
        return
    refundable = payment.captured - payment.refunded - balance.refunding(ledger, payment.payment_id)
    amount = min(amount, refundable)
    if amount > 0:
        request(
            ledger, OperationKind.REFUND, payment, amount, refund_id=refund_id, reason=reason[:200]
        )
