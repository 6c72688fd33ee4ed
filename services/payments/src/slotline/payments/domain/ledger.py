"""The ledger of one booking: every authorisation, capture, void, refund, fee and receipt.

Booking decides (deposit needed, confirmed, cancelled with this fee and that refund);
the ledger turns each decision into gateway operations, recorded *before* they are
made, and learns their outcome as gateway facts — from the call's answer, a webhook or
reconciliation, in any order and any number of times, each applied at most once.

Deposits are captured as soon as the booking is confirmed: authorisations lapse after
about seven days, while bookings are often made further ahead, and held money makes
late-cancellation fees and partial refunds plain refunds rather than new charges.

Here: the aggregate, booking's decisions and the events. Its rules beside it record
through those events: ``requesting`` (calls asked of the gateway), ``fees``, ``outcomes``
(gateway facts taken in once) and ``balance`` (what the money comes to).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from slotline.events.privacy.personal import ERASED, personal
from slotline.payments.domain import balance, fees, outcomes, requesting
from slotline.payments.domain.facts import FailureReason, GatewayFact
from slotline.payments.domain.money import CurrencyMismatch, Money
from slotline.payments.domain.operations import Operation, OperationKind
from slotline.payments.domain.outcomes import FactMismatch, UnknownPayment
from slotline.payments.domain.payment import (
    Fee,
    FeeKind,
    Payment,
    PaymentStatus,
    Purpose,
    Receipt,
    ReceiptTerms,
    Then,
)

__all__ = ["LEDGER_NAMESPACE", "FactMismatch", "Ledger", "UnknownPayment"]

LEDGER_NAMESPACE = uuid5(NAMESPACE_URL, "https://slotline.dev/payments/ledger")


class Ledger(Aggregate):
    """One booking's money; its id is derived from the tenant and the booking."""

    @staticmethod
    def create_id(tenant_id: str, booking_id: str) -> UUID:
        return uuid5(LEDGER_NAMESPACE, f"{tenant_id}:{booking_id}")

    class Opened(Aggregate.Created):
        tenant_id: str
        booking_id: str

    @event(Opened)
    def __init__(self, tenant_id: str, booking_id: str) -> None:
        self.tenant_id = tenant_id
        self.booking_id = booking_id
        self.currency: str | None = None
        self.email: str | None = None
        self.price_tier: str | None = None
        self.payments: dict[str, Payment] = {}
        self.pending: dict[str, Operation] = {}
        self.stalls: dict[str, int] = {}
        self.fees: dict[str, Fee] = {}
        self.receipts: dict[str, Receipt] = {}

    @property
    def receipt_email(self) -> str | None:
        """Where receipts go: nowhere once the customer was erased."""
        return None if self.email == ERASED else self.email

    @property
    def deposit(self) -> Payment | None:
        """The booking's standing deposit or prepayment, if any."""
        standing = [p for p in self.payments.values() if p.purpose is not Purpose.FEE]
        standing = [p for p in standing if p.standing]
        return standing[-1] if standing else None

    def pending_for(self, payment_id: str, kind: OperationKind) -> Operation | None:
        for operation in self.pending.values():
            if operation.payment_id == payment_id and operation.kind is kind:
                return operation
        return None

    # -- what booking decided ------------------------------------------------------------

    def note_contact(self, email: str | None, customer_id: str) -> None:
        """The address receipts go to: the customer's personal data, sealed under their
        key in the store (and unreadable once booking erases them)."""
        if email and email != self.email:
            self._contact_noted(tenant_id=self.tenant_id, customer_id=customer_id, email=email)

    def request_payment(
        self, *, amount: Money, purpose: Purpose, token: str | None, price_tier: str | None
    ) -> None:
        """Booking asks for a deposit or prepayment; asked again while one stands, it is
        the same request. One that cannot be authorised (no token, nothing to pay, another
        currency than the ledger's) fails at once: booking hears why, at once, instead of
        waiting for an answer until its payment deadline."""
        if purpose is Purpose.FEE:
            raise ValueError("fees are collected by the ledger, not requested")
        if self.deposit is not None:
            return
        unpayable = self._unpayable(amount, token)
        payment_id = requesting.next_payment_id(self)
        usable = None if unpayable else token
        requesting.open_payment(self, payment_id, purpose, amount, usable, price_tier)
        if unpayable:
            self._authorization_failed(
                payment_id=payment_id,
                reason=FailureReason.PROCESSING_ERROR.value,
                detail=unpayable,
                retryable=False,
            )

    def _unpayable(self, amount: Money, token: str | None) -> str | None:
        """Why a requested payment cannot go to the gateway, if it cannot."""
        if amount.amount_minor == 0:
            return "a deposit of zero needs no authorisation"
        if self._in_another_currency(amount):
            return f"this booking's payments are in {self.currency}, not {amount.currency}"
        if token is None:
            return "no payment token was given"
        return None

    def booking_confirmed(self) -> None:
        """Capture the deposit (see the module docstring for why at once)."""
        payment = self.deposit
        if payment is None:
            return
        if payment.status is PaymentStatus.AUTHORIZED:
            if self.pending_for(payment.payment_id, OperationKind.CAPTURE) is None:
                requesting.request(self, OperationKind.CAPTURE, payment, payment.amount)
        elif payment.status is PaymentStatus.AUTHORIZING and payment.then is None:
            self._planned(
                payment_id=payment.payment_id, then=Then.CAPTURE.value, amount=payment.amount
            )

    def booking_released(self, why: str) -> None:
        """The booking expired or was rejected: let go of whatever it holds."""
        payment = self.deposit
        if payment is None:
            return
        if payment.status is PaymentStatus.AUTHORIZING and payment.then is None:
            self._planned(payment_id=payment.payment_id, then=Then.VOID.value, amount=0)
        elif payment.status is PaymentStatus.AUTHORIZED and not balance.capture_coming(
            self, payment
        ):
            requesting.void(self, payment)
        else:
            requesting.refund(self, payment, f"release-{payment.payment_id}", payment.amount, why)

    def booking_cancelled(self, *, fee: Money | None, refund: Money | None, reason: str) -> None:
        """Refund what booking says to refund and keep (or charge) the fee it decided."""
        fee_amount = self._amount(fee)
        payment = self.deposit
        if payment is not None and not fee_amount:
            if payment.status is PaymentStatus.AUTHORIZING and payment.then is None:
                self._planned(payment_id=payment.payment_id, then=Then.VOID.value, amount=0)
            elif payment.status is PaymentStatus.AUTHORIZED:
                requesting.void(self, payment)
        refund_amount = self._amount(refund)
        if payment is not None and refund_amount:
            requesting.refund(self, payment, "cancellation", refund_amount, reason)
        if fee is not None and fee_amount:
            fees.collect_fee(self, "late_cancellation", FeeKind.LATE_CANCELLATION, fee)

    def booking_no_show(self, fee: Money | None) -> None:
        if fee is not None and self._amount(fee):
            fees.collect_fee(self, "no_show", FeeKind.NO_SHOW, fee)

    def booking_rescheduled(self, change_number: int, change_fee: Money | None) -> None:
        if change_fee is not None and self._amount(change_fee):
            fees.collect_fee(self, f"change-{change_number}", FeeKind.CHANGE, change_fee)

    # -- what the gateway says -----------------------------------------------------------

    def learn(self, fact: GatewayFact, terms: ReceiptTerms) -> None:
        """Apply a gateway fact once; repeated, stale or out-of-order facts change nothing."""
        outcomes.learn(self, fact, terms)

    def _amount(self, money: Money | None) -> int:
        if money is None:
            return 0
        self._check_currency(money)
        return money.amount_minor

    def _in_another_currency(self, money: Money) -> bool:
        return self.currency is not None and money.currency != self.currency

    def _check_currency(self, money: Money) -> None:
        if self._in_another_currency(money):
            raise CurrencyMismatch(f"ledger is in {self.currency}, not {money.currency}")

    # -- events (state changes only; no decisions below this line) -----------------------

    @personal("email", subject="customer_id")
    class ContactNoted(Aggregate.Event):
        class_version = 2  # version 1 named no tenant or customer: stored before sealing

        tenant_id: str
        customer_id: str
        email: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["tenant_id"] = state["customer_id"] = ""

    @event(ContactNoted)
    def _contact_noted(self, tenant_id: str, customer_id: str, email: str) -> None:
        self.email = email

    class PaymentRequested(Aggregate.Event):
        payment_id: str
        purpose: str
        amount: int
        currency: str
        token: str | None
        price_tier: str | None
        operation: dict[str, Any] | None

    @event(PaymentRequested)
    def _payment_requested(
        self,
        payment_id: str,
        purpose: str,
        amount: int,
        currency: str,
        token: str | None,
        price_tier: str | None,
        operation: dict[str, Any] | None,
    ) -> None:
        self.currency = self.currency or currency
        self.price_tier = price_tier or self.price_tier
        self.payments[payment_id] = Payment(
            payment_id, Purpose(purpose), amount, token, currency=currency
        )
        if operation is not None:
            self.pending[operation["key"]] = Operation.from_data(operation)

    class OperationRequested(Aggregate.Event):
        operation: dict[str, Any]

    @event(OperationRequested)
    def _operation_requested(self, operation: dict[str, Any]) -> None:
        requested = Operation.from_data(operation)
        self.pending[requested.key] = requested
        self.payments[requested.payment_id].then = None

    class RefundPlanned(Aggregate.Event):
        payment_id: str
        name: str
        amount: int
        reason: str

    @event(RefundPlanned)
    def _refund_planned(self, payment_id: str, name: str, amount: int, reason: str) -> None:
        self.payments[payment_id].refunds_after_capture[name] = (amount, reason)

    class OperationStalled(Aggregate.Event):
        key: str
        error: str

    @event(OperationStalled)
    def _operation_stalled(self, key: str, error: str) -> None:
        self.stalls[key] = self.stalls.get(key, 0) + 1

    class Planned(Aggregate.Event):
        payment_id: str
        then: str
        amount: int

    @event(Planned)
    def _planned(self, payment_id: str, then: str, amount: int) -> None:
        self.payments[payment_id].then = Then(then)
        self.payments[payment_id].then_amount = amount

    def _done(self, payment_id: str, *kinds: OperationKind, refund_id: str | None = None) -> None:
        for key, operation in list(self.pending.items()):
            mine = operation.payment_id == payment_id and operation.kind in kinds
            if mine and refund_id in (None, operation.refund_id):
                del self.pending[key]
                self.stalls.pop(key, None)

    class Authorized(Aggregate.Event):
        payment_id: str
        reference: str
        gateway: str

    @event(Authorized)
    def _authorized(self, payment_id: str, reference: str, gateway: str) -> None:
        payment = self.payments[payment_id]
        payment.status = PaymentStatus.AUTHORIZED
        payment.reference = reference
        payment.gateway = gateway
        self._done(payment_id, OperationKind.AUTHORIZE)

    class AuthorizedLate(Aggregate.Event):
        payment_id: str
        reference: str

    @event(AuthorizedLate)
    def _authorized_late(self, payment_id: str, reference: str) -> None:
        payment = self.payments[payment_id]
        payment.status = PaymentStatus.AUTHORIZED
        payment.reference = reference
        payment.late = True

    class AuthorizationFailed(Aggregate.Event):
        payment_id: str
        reason: str
        detail: str
        retryable: bool

    @event(AuthorizationFailed)
    def _authorization_failed(
        self, payment_id: str, reason: str, detail: str, retryable: bool
    ) -> None:
        payment = self.payments[payment_id]
        payment.status = PaymentStatus.FAILED
        payment.failure = reason
        payment.detail = detail
        self._done(payment_id, OperationKind.AUTHORIZE, OperationKind.CHARGE)

    class Captured(Aggregate.Event):
        payment_id: str
        amount: int

    @event(Captured)
    def _captured(self, payment_id: str, amount: int) -> None:
        payment = self.payments[payment_id]
        payment.status = PaymentStatus.CAPTURED
        payment.captured = amount
        payment.refunds_after_capture = {}  # requested next, as refunds
        self._done(payment_id, OperationKind.CAPTURE, OperationKind.CHARGE, OperationKind.VOID)

    class Voided(Aggregate.Event):
        payment_id: str

    @event(Voided)
    def _voided(self, payment_id: str) -> None:
        self.payments[payment_id].status = PaymentStatus.VOIDED
        self._done(payment_id, OperationKind.VOID, OperationKind.CAPTURE)

    class Refunded(Aggregate.Event):
        payment_id: str
        refund_id: str
        amount: int
        reason: str

    @event(Refunded)
    def _refunded(self, payment_id: str, refund_id: str, amount: int, reason: str) -> None:
        self.payments[payment_id].refunds[refund_id] = amount
        self._done(payment_id, OperationKind.REFUND, refund_id=refund_id)

    class FeeAssessed(Aggregate.Event):
        fee_id: str
        kind: str
        amount: int
        charge_payment_id: str | None
        currency: str | None

    @event(FeeAssessed)
    def _fee_assessed(
        self,
        fee_id: str,
        kind: str,
        amount: int,
        charge_payment_id: str | None,
        currency: str | None = None,
    ) -> None:
        self.currency = self.currency or currency  # a fee may be the first money seen
        self.fees[fee_id] = Fee(fee_id, FeeKind(kind), amount, charge_payment_id)

    class FeeCharged(Aggregate.Event):
        fee_id: str
        retained: int
        charged: int

    @event(FeeCharged)
    def _fee_settled(self, fee_id: str, retained: int, charged: int) -> None:
        fee = self.fees[fee_id]
        fee.settled, fee.retained, fee.charged = True, retained, charged

    class FeeNotCollected(Aggregate.Event):
        fee_id: str
        amount: int
        reason: str

    @event(FeeNotCollected)
    def _fee_not_collected(self, fee_id: str, amount: int, reason: str) -> None:
        """Recorded for the books; the fee stays settled at what was collected."""

    def issue_receipt(self, receipt: Receipt) -> None:
        self.trigger_event(self.ReceiptIssued, **asdict(receipt))

    class ReceiptIssued(Aggregate.Event, Receipt):
        """A receipt was issued: the event carries it, field for field."""

        def apply(self, aggregate: Any) -> None:
            aggregate.receipts[self.receipt_id] = Receipt.copy_of(self)
