"""Fees (late cancellation, no-show, change): kept from held money first, then drawn on
an authorisation, and only what is still missing charged to the payment method on file.

A fee is settled once its money is in; what could not be collected is recorded for the
books, and the fee stays settled at what was collected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from slotline.payments.domain import balance, requesting
from slotline.payments.domain.money import Money
from slotline.payments.domain.operations import OperationKind
from slotline.payments.domain.payment import FeeKind, PaymentStatus, Purpose, Then

if TYPE_CHECKING:
    from slotline.payments.domain.ledger import Ledger


def collect_fee(ledger: Ledger, fee_id: str, kind: FeeKind, fee: Money) -> None:
    """Keep the fee from held money; draw on an authorisation; charge what is missing."""
    amount = fee.amount_minor
    if fee_id in ledger.fees:
        return
    deposit = ledger.deposit
    if deposit is not None and deposit.status is PaymentStatus.AUTHORIZED:
        if ledger.pending_for(deposit.payment_id, OperationKind.CAPTURE) is None:
            requesting.request(ledger, OperationKind.CAPTURE, deposit, min(amount, deposit.amount))
    elif deposit is not None and deposit.status is PaymentStatus.AUTHORIZING and not deposit.then:
        ledger._planned(
            payment_id=deposit.payment_id,
            then=Then.CAPTURE.value,
            amount=min(amount, deposit.amount),
        )
    held = balance.held_net(ledger) + balance.incoming(ledger)
    held -= sum(f.amount for f in ledger.fees.values() if not f.settled)
    missing = amount - max(0, min(amount, held))
    token = balance.token_on_file(ledger)
    charge_payment_id = None
    if missing and token and ledger.currency:
        charge_payment_id = requesting.next_payment_id(ledger)
        requesting.open_payment(
            ledger, charge_payment_id, Purpose.FEE, Money(missing, ledger.currency), token, None
        )
    ledger._fee_assessed(
        fee_id=fee_id,
        kind=kind.value,
        amount=amount,
        charge_payment_id=charge_payment_id,
        currency=fee.currency,
    )
    settle_fees(ledger)


def settle_fees(ledger: Ledger) -> None:
    """A fee is settled once its money is in: held money kept, a charge taken (or not)."""
    for fee in list(ledger.fees.values()):
        if fee.settled or balance.waiting_for_capture(ledger):
            continue
        charge = ledger.payments.get(fee.charge_payment_id or "")
        if charge is not None and charge.status is PaymentStatus.AUTHORIZING:
            continue
        charged = charge.captured if charge is not None else 0
        retained = max(0, min(fee.amount - charged, balance.held_net(ledger)))
        ledger._fee_settled(fee_id=fee.fee_id, retained=retained, charged=charged)
        missing = fee.amount - retained - charged
        if missing > 0:
            why = "no payment method on file" if charge is None else "the charge failed"
            ledger._fee_not_collected(fee_id=fee.fee_id, amount=missing, reason=why)
