"""The ledger of one booking: every authorisation, capture, void, refund, fee and receipt.

Booking decides (deposit needed, confirmed, cancelled with this fee and that refund);
the ledger turns each decision into gateway operations, recorded *before* they are
made, and learns their outcome as gateway facts — from the call's answer, a webhook or
reconciliation, in any order and any number of times, each applied at most once.

Deposits are captured as soon as the booking is confirmed: authorisations lapse after
about seven days, while bookings are often made further ahead, and held money makes
late-cancellation fees and partial refunds plain refunds rather than new charges.
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from slotline.payments.domain import facts
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
from slotline.payments.domain.money import CurrencyMismatch, Money
from slotline.payments.domain.operations import Operation, OperationKind, operation_key
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

LEDGER_NAMESPACE = uuid5(NAMESPACE_URL, "https://slotline.dev/payments/ledger")


class UnknownPayment(LookupError):
    """A fact about a payment this ledger never asked for."""


class FactMismatch(ValueError):
    """A fact that contradicts what the ledger asked for: another amount, or another
    gateway payment than the one it knows. Never applied (a forged or confused report)."""


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

    # -- reading -------------------------------------------------------------------------

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

    def _has_refund(self, refund_id: str) -> bool:
        done = any(refund_id in p.refunds for p in self.payments.values())
        return done or any(op.refund_id == refund_id for op in self.pending.values())

    def _refunding(self, payment_id: str | None = None) -> int:
        return sum(
            op.amount
            for op in self.pending.values()
            if op.kind is OperationKind.REFUND and payment_id in (None, op.payment_id)
        )

    def _capture_coming(self, payment: Payment) -> bool:
        if self.pending_for(payment.payment_id, OperationKind.CAPTURE) is not None:
            return True
        return payment.status is PaymentStatus.AUTHORIZING and payment.then is Then.CAPTURE

    def _incoming(self) -> int:
        """Money a planned or requested capture of the deposit will bring in, less the
        refunds already decided for when it arrives."""
        incoming = -sum(
            amount
            for payment in self.payments.values()
            for amount, _ in payment.refunds_after_capture.values()
        )
        for payment in self.payments.values():
            if payment.purpose is Purpose.FEE:
                continue
            capture = self.pending_for(payment.payment_id, OperationKind.CAPTURE)
            if capture is not None:
                incoming += capture.amount
            elif payment.status is PaymentStatus.AUTHORIZING and payment.then is Then.CAPTURE:
                incoming += payment.then_amount
        return incoming

    def _held_net(self) -> int:
        """Captured booking money not refunded, nor being refunded, nor kept for fees."""
        captured = sum(
            p.captured - p.refunded for p in self.payments.values() if p.purpose is not Purpose.FEE
        )
        kept = sum(f.retained for f in self.fees.values() if f.settled)
        return captured - self._refunding() - kept

    def _token_on_file(self) -> str | None:
        tokens = [p.token for p in self.payments.values() if p.token]
        return tokens[-1] if tokens else None

    def _waiting_for_capture(self) -> bool:
        return any(
            self.pending_for(p.payment_id, OperationKind.CAPTURE) is not None
            or (p.status is PaymentStatus.AUTHORIZING and p.then is Then.CAPTURE)
            for p in self.payments.values()
            if p.purpose is not Purpose.FEE
        )

    # -- what booking decided ------------------------------------------------------------

    def note_contact(self, email: str | None) -> None:
        if email and email != self.email:
            self._contact_noted(email=email)

    def request_payment(
        self, *, amount: Money, purpose: Purpose, token: str | None, price_tier: str | None
    ) -> None:
        """Booking asks for a deposit or prepayment; asked again while one stands, it is
        the same request. Without a token the authorisation fails at once."""
        if purpose is Purpose.FEE:
            raise ValueError("fees are collected by the ledger, not requested")
        if amount.amount_minor == 0:
            raise ValueError("a deposit of zero needs no authorisation")
        self._check_currency(amount)
        if self.deposit is not None:
            return
        payment_id = self._next_payment_id()
        self._open_payment(payment_id, purpose, amount, token, price_tier)
        if token is None:
            self._authorization_failed(
                payment_id=payment_id,
                reason=FailureReason.PROCESSING_ERROR.value,
                detail="no payment token was given",
                retryable=False,
            )

    def booking_confirmed(self) -> None:
        """Capture the deposit (see the module docstring for why at once)."""
        payment = self.deposit
        if payment is None:
            return
        if payment.status is PaymentStatus.AUTHORIZED:
            if self.pending_for(payment.payment_id, OperationKind.CAPTURE) is None:
                self._request(OperationKind.CAPTURE, payment, payment.amount)
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
        elif payment.status is PaymentStatus.AUTHORIZED and not self._capture_coming(payment):
            self._void(payment)
        else:
            self._refund(payment, f"release-{payment.payment_id}", payment.amount, why)

    def booking_cancelled(self, *, fee: Money | None, refund: Money | None, reason: str) -> None:
        """Refund what booking says to refund and keep (or charge) the fee it decided."""
        fee_amount = self._amount(fee)
        payment = self.deposit
        if payment is not None and not fee_amount:
            if payment.status is PaymentStatus.AUTHORIZING and payment.then is None:
                self._planned(payment_id=payment.payment_id, then=Then.VOID.value, amount=0)
            elif payment.status is PaymentStatus.AUTHORIZED:
                self._void(payment)
        refund_amount = self._amount(refund)
        if payment is not None and refund_amount:
            self._refund(payment, "cancellation", refund_amount, reason)
        if fee_amount:
            assert fee is not None
            self._collect_fee(
                "late_cancellation", FeeKind.LATE_CANCELLATION, fee_amount, fee.currency
            )

    def booking_no_show(self, fee: Money | None) -> None:
        if fee is not None and self._amount(fee):
            self._collect_fee("no_show", FeeKind.NO_SHOW, self._amount(fee), fee.currency)

    def booking_rescheduled(self, change_number: int, change_fee: Money | None) -> None:
        if change_fee is not None and self._amount(change_fee):
            self._collect_fee(
                f"change-{change_number}",
                FeeKind.CHANGE,
                self._amount(change_fee),
                change_fee.currency,
            )

    # -- what the gateway says -----------------------------------------------------------

    def learn(self, fact: GatewayFact, terms: ReceiptTerms) -> None:
        """Apply a gateway fact once; repeated, stale or out-of-order facts change nothing."""
        if isinstance(fact, OperationStalled):
            if fact.key in self.pending:
                self._operation_stalled(key=fact.key, error=fact.error[:300])
            return
        payment = self.payments.get(fact.payment_id)
        if payment is None:
            raise UnknownPayment(f"ledger of {self.booking_id} has no payment {fact.payment_id}")
        _check_matches(payment, fact)
        match fact:
            case Authorized():
                self._learn_authorized(payment, fact.reference, fact.gateway)
            case AuthorizationRefused():
                if payment.status is PaymentStatus.AUTHORIZING:
                    self._authorization_failed(
                        payment_id=payment.payment_id,
                        reason=fact.reason.value,
                        detail=fact.detail[:500],
                        retryable=fact.retryable,
                    )
            case Captured():
                self._learn_captured(payment, fact, terms)
            case Voided():
                self._learn_voided(payment)
            case Refunded():
                self._learn_refunded(payment, fact, terms)
        self._settle_fees()

    def _learn_authorized(self, payment: Payment, reference: str, gateway: str) -> None:
        if payment.status is PaymentStatus.AUTHORIZING:
            self._authorized(payment_id=payment.payment_id, reference=reference, gateway=gateway)
            if payment.then is Then.CAPTURE:
                self._request(OperationKind.CAPTURE, payment, payment.then_amount)
            elif payment.then is Then.VOID:
                self._void(payment)
        elif payment.status is PaymentStatus.FAILED and not payment.late:
            # Reported failed (e.g. timed out), yet the network reserved it: give it back.
            self._authorized_late(payment_id=payment.payment_id, reference=reference)
            self._void(payment)

    def _learn_captured(self, payment: Payment, fact: facts.Captured, terms: ReceiptTerms) -> None:
        if payment.status in {PaymentStatus.AUTHORIZING, PaymentStatus.FAILED}:
            self._learn_authorized(payment, fact.reference, fact.gateway)
        if payment.status is not PaymentStatus.AUTHORIZED or fact.amount <= 0:
            return  # already captured, or voided: nothing new
        owed = list(payment.refunds_after_capture.items())
        self._captured(payment_id=payment.payment_id, amount=fact.amount)
        self._issue_receipt(payment, fact.amount, None, terms)
        for name, (amount, reason) in owed:
            self._refund(payment, name, amount, reason)
        if payment.late:  # money taken for a booking told the payment failed: return it
            self._refund(payment, f"late-{payment.payment_id}", fact.amount, "payment had failed")

    def _learn_voided(self, payment: Payment) -> None:
        if payment.status is PaymentStatus.AUTHORIZED:
            self._voided(payment_id=payment.payment_id)
        elif payment.status is PaymentStatus.AUTHORIZING:
            self._authorization_failed(
                payment_id=payment.payment_id,
                reason=FailureReason.PROCESSING_ERROR.value,
                detail="cancelled at the gateway before it was authorised",
                retryable=False,
            )

    def _learn_refunded(self, payment: Payment, fact: facts.Refunded, terms: ReceiptTerms) -> None:
        if payment.status is not PaymentStatus.CAPTURED or fact.refund_id in payment.refunds:
            return
        request = next((op for op in self.pending.values() if op.refund_id == fact.refund_id), None)
        self._refunded(
            payment_id=payment.payment_id,
            refund_id=fact.refund_id,
            amount=fact.amount,
            reason=request.reason if request else "refunded at the gateway",
        )
        self._issue_receipt(payment, fact.amount, fact.refund_id, terms)

    # -- decisions turned into operations ------------------------------------------------

    def _amount(self, money: Money | None) -> int:
        if money is None:
            return 0
        self._check_currency(money)
        return money.amount_minor

    def _check_currency(self, money: Money) -> None:
        if self.currency is not None and money.currency != self.currency:
            raise CurrencyMismatch(f"ledger is in {self.currency}, not {money.currency}")

    def _next_payment_id(self) -> str:
        return str(uuid5(self.id, f"payment:{len(self.payments) + 1}"))

    def _operation(
        self, kind: OperationKind, payment_id: str, amount: int, **extra: Any
    ) -> Operation:
        assert self.currency is not None or "currency" in extra
        return Operation(
            kind=kind,
            key=operation_key(self.id, self.version + 1, kind),
            payment_id=payment_id,
            amount=amount,
            currency=extra.pop("currency", None) or self.currency or "",
            **extra,
        )

    def _open_payment(
        self,
        payment_id: str,
        purpose: Purpose,
        amount: Money,
        token: str | None,
        price_tier: str | None,
    ) -> None:
        kind = OperationKind.CHARGE if purpose is Purpose.FEE else OperationKind.AUTHORIZE
        operation = None
        if token is not None:
            operation = self._operation(
                kind, payment_id, amount.amount_minor, token=token, currency=amount.currency
            )
        self._payment_requested(
            payment_id=payment_id,
            purpose=purpose.value,
            amount=amount.amount_minor,
            currency=amount.currency,
            token=token,
            price_tier=price_tier,
            operation=operation.to_data() if operation else None,
        )

    def _request(self, kind: OperationKind, payment: Payment, amount: int, **extra: Any) -> None:
        operation = self._operation(
            kind, payment.payment_id, amount, reference=payment.reference, **extra
        )
        self._operation_requested(operation=operation.to_data())

    def _void(self, payment: Payment) -> None:
        if self.pending_for(payment.payment_id, OperationKind.VOID) is None:
            self._request(OperationKind.VOID, payment, 0)

    def _refund(self, payment: Payment, name: str, amount: int, reason: str) -> None:
        """Refund once per ``name`` (e.g. "cancellation"): a repeated decision is ignored.
        Money still being captured is refunded as soon as the capture is in."""
        refund_id = str(uuid5(self.id, f"refund:{name}"))
        if self._has_refund(refund_id):
            return
        if payment.status is not PaymentStatus.CAPTURED:
            if self._capture_coming(payment) and name not in payment.refunds_after_capture:
                self._refund_planned(
                    payment_id=payment.payment_id, name=name, amount=amount, reason=reason[:200]
                )
            return
        refundable = payment.captured - payment.refunded - self._refunding(payment.payment_id)
        amount = min(amount, refundable)
        if amount > 0:
            self._request(
                OperationKind.REFUND, payment, amount, refund_id=refund_id, reason=reason[:200]
            )

    def _collect_fee(self, fee_id: str, kind: FeeKind, amount: int, currency: str) -> None:
        """Keep the fee from held money; draw on an authorisation; charge what is missing."""
        if fee_id in self.fees:
            return
        deposit = self.deposit
        if deposit is not None and deposit.status is PaymentStatus.AUTHORIZED:
            if self.pending_for(deposit.payment_id, OperationKind.CAPTURE) is None:
                self._request(OperationKind.CAPTURE, deposit, min(amount, deposit.amount))
        elif (
            deposit is not None and deposit.status is PaymentStatus.AUTHORIZING and not deposit.then
        ):
            self._planned(
                payment_id=deposit.payment_id,
                then=Then.CAPTURE.value,
                amount=min(amount, deposit.amount),
            )
        held = self._held_net() + self._incoming()
        held -= sum(f.amount for f in self.fees.values() if not f.settled)
        missing = amount - max(0, min(amount, held))
        token = self._token_on_file()
        charge_payment_id = None
        if missing and token and self.currency:
            charge_payment_id = self._next_payment_id()
            self._open_payment(
                charge_payment_id, Purpose.FEE, Money(missing, self.currency), token, None
            )
        self._fee_assessed(
            fee_id=fee_id,
            kind=kind.value,
            amount=amount,
            charge_payment_id=charge_payment_id,
            currency=currency,
        )
        self._settle_fees()

    def _settle_fees(self) -> None:
        """A fee is settled once its money is in: held money kept, a charge taken (or not)."""
        for fee in list(self.fees.values()):
            if fee.settled or self._waiting_for_capture():
                continue
            charge = self.payments.get(fee.charge_payment_id or "")
            if charge is not None and charge.status is PaymentStatus.AUTHORIZING:
                continue
            charged = charge.captured if charge is not None else 0
            retained = max(0, min(fee.amount - charged, self._held_net()))
            self._fee_settled(fee_id=fee.fee_id, retained=retained, charged=charged)
            missing = fee.amount - retained - charged
            if missing > 0:
                why = "no payment method on file" if charge is None else "the charge failed"
                self._fee_not_collected(fee_id=fee.fee_id, amount=missing, reason=why)

    def _issue_receipt(
        self, payment: Payment, amount: int, refund_id: str | None, terms: ReceiptTerms
    ) -> None:
        what = {
            Purpose.DEPOSIT: "Deposit",
            Purpose.PREPAYMENT: "Prepayment",
            Purpose.FEE: "Fee",
        }[payment.purpose]
        tax = terms.tax_terms()
        self._receipt_issued(
            receipt_id=terms.new_id(),
            payment_id=payment.payment_id,
            refund_id=refund_id,
            amount=amount,
            tax=tax.tax_in_paid(amount),
            tax_rate_basis_points=tax.rate_basis_points,
            taxes_included=tax.included,
            issued_at=terms.now().isoformat(),
            description=f"Refund of {what.lower()}" if refund_id else what,
        )

    # -- events (state changes only; no decisions below this line) -----------------------

    class ContactNoted(Aggregate.Event):
        email: str

    @event(ContactNoted)
    def _contact_noted(self, email: str) -> None:
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
        self.payments[payment_id] = Payment(payment_id, Purpose(purpose), amount, token)
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

    class ReceiptIssued(Aggregate.Event):
        receipt_id: str
        payment_id: str
        refund_id: str | None
        amount: int
        tax: int
        tax_rate_basis_points: int
        taxes_included: bool
        issued_at: str
        description: str

    @event(ReceiptIssued)
    def _receipt_issued(
        self,
        receipt_id: str,
        payment_id: str,
        refund_id: str | None,
        amount: int,
        tax: int,
        tax_rate_basis_points: int,
        taxes_included: bool,
        issued_at: str,
        description: str,
    ) -> None:
        self.receipts[receipt_id] = Receipt(
            receipt_id,
            payment_id,
            refund_id,
            amount,
            tax,
            tax_rate_basis_points,
            taxes_included,
            issued_at,
            description,
        )


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
