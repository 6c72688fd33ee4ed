"""Kafka side of the payments service: what it publishes and what it consumes.

Publishes the ledgers' facts on ``payments.events.v1`` (through the outbox relay),
keyed by booking id. Consumes ``booking.events.v1`` through the idempotent inbox:
booking's decisions become ledger decisions; ``PolicyDefined`` feeds the policy copy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from slotline.events.contract import booking as bookings
from slotline.events.contract import payments as public
from slotline.events.contract.common import Money as WireMoney
from slotline.events.envelope import Message
from slotline.events.inbox import Rejected
from slotline.events.publishing import Publisher
from slotline.events.runtime import Subscription
from slotline.events.subscription import Handler
from slotline.events.topics import BOOKING_EVENTS
from slotline.events.unit_of_work import UnitOfWork
from slotline.payments.application import Contact, PaymentsApplication
from slotline.payments.domain.ledger import Ledger
from slotline.payments.domain.money import Money
from slotline.payments.domain.payment import Payment, Purpose
from slotline.payments.receipts import receipt_url

# --- publishing ------------------------------------------------------------------------

_PUBLISHED = (
    Ledger.Authorized,
    Ledger.AuthorizationFailed,
    Ledger.Captured,
    Ledger.Voided,
    Ledger.Refunded,
    Ledger.FeeCharged,
    Ledger.FeeNotCollected,
    Ledger.ReceiptIssued,
)
"""The ledger's public facts; plans, requests, operations and assessments are internal."""


def publisher(receipts_base_url: str) -> Publisher:
    """What payments publishes, by event class: each public fact of a ledger, from the
    ledger right after it."""
    table = Publisher(Ledger)

    @table.on(*_PUBLISHED)
    def publish(ledger: Ledger, domain_event: Any) -> Message | None:
        return _public(ledger, domain_event, receipts_base_url)

    return table


def _public(ledger: Ledger, event: Any, base_url: str) -> Message | None:
    assert ledger.currency is not None
    currency = ledger.currency

    def money(amount: int) -> WireMoney:
        return WireMoney(amount_minor=amount, currency=currency)

    payment: Payment | None = ledger.payments.get(getattr(event, "payment_id", ""))
    common = {
        "tenant_id": ledger.tenant_id,
        "aggregate_id": ledger.booking_id,
        "booking_id": ledger.booking_id,
        "payment_id": getattr(event, "payment_id", None) or getattr(event, "fee_id", ""),
    }
    is_fee_payment = payment is not None and payment.purpose is Purpose.FEE
    match event:
        case Ledger.Authorized() if payment is not None and not is_fee_payment:
            return public.PaymentAuthorized(
                **common,
                amount=money(payment.amount),
                gateway=payment.gateway,
                gateway_reference=payment.reference or "",
            )
        case Ledger.AuthorizationFailed() if payment is not None and not is_fee_payment:
            asked = WireMoney(amount_minor=payment.amount, currency=payment.currency or currency)
            return public.PaymentAuthorizationFailed(
                **common,
                amount=asked,
                reason=public.FailureReason(event.reason),
                detail=event.detail,
                retryable=event.retryable,
            )
        case Ledger.Captured() if payment is not None:
            return public.PaymentCaptured(
                **common, amount=money(event.amount), gateway_reference=payment.reference or ""
            )
        case Ledger.Voided() if payment is not None:
            return public.PaymentVoided(**common, amount=money(payment.amount))
        case Ledger.Refunded() if payment is not None:
            return public.PaymentRefunded(
                **common,
                amount=money(event.amount),
                full=payment.refunded >= payment.captured,
                reason=event.reason or "refund",
                refund_id=event.refund_id,
            )
        case Ledger.FeeCharged():
            fee = ledger.fees[event.fee_id]
            if not fee.collected:
                return None
            paid_by = fee.charge_payment_id if fee.charged else _deposit_id(ledger)
            return public.FeeCharged(
                **common | {"payment_id": paid_by or fee.fee_id},
                fee=public.FeeKind(fee.kind.value),
                amount=money(fee.collected),
            )
        case Ledger.FeeNotCollected():
            fee = ledger.fees[event.fee_id]
            return public.FeeNotCollected(
                **common,
                fee=public.FeeKind(fee.kind.value),
                amount=money(event.amount),
                reason=event.reason,
            )
        case Ledger.ReceiptIssued():
            receipt = ledger.receipts[event.receipt_id]
            return public.ReceiptIssued(
                **common,
                receipt_id=receipt.receipt_id,
                amount=money(receipt.amount),
                url=receipt_url(base_url, ledger, receipt.receipt_id),
                recipient_email=ledger.receipt_email,
                refund=receipt.is_refund,
            )
    return None


def _deposit_id(ledger: Ledger) -> str | None:
    deposits = [p for p in ledger.payments.values() if p.purpose is not Purpose.FEE]
    return deposits[-1].payment_id if deposits else None


# --- consuming ---------------------------------------------------------------------------


def subscriptions(application: PaymentsApplication) -> Sequence[Subscription]:
    """Booking's events that payments decides on (:data:`DECISIONS`), applied in their
    inbox batch's unit of work (a batch is one transaction); the rest (a customer
    registered, a request answered, a waitlist line) are acknowledged without one."""
    apply = booking_decisions(application)
    return (Subscription(BOOKING_EVENTS, handlers=dict.fromkeys(DECISIONS, apply)),)


def booking_decisions(app: PaymentsApplication) -> Handler:
    """The effect of one booking event; a decision that can never apply is dead-lettered."""

    def apply(message: Message, work: UnitOfWork) -> None:
        # by the class or the one it is an older version of (BookingConfirmedV1, ...)
        decide = next(DECISIONS[c] for c in type(message).__mro__ if c in DECISIONS)
        try:
            decide(app, message, work)
        except ValueError as error:  # e.g. a fee in another currency than what was paid
            raise Rejected(f"{type(error).__name__}: {error}") from error

    return apply


def _money(value: WireMoney | None) -> Money | None:
    return None if value is None else Money(value.amount_minor, value.currency)


Decision = Callable[[PaymentsApplication, Any, UnitOfWork], None]


def _cancelled(app: PaymentsApplication, m: bookings.BookingCancelled, w: UnitOfWork) -> None:
    window = "inside" if m.within_free_window else "outside"
    reason = f"cancelled by {m.by.value} {window} the free window"
    app.booking_cancelled(
        m.tenant_id, m.booking_id, fee=_money(m.fee), refund=_money(m.refund), reason=reason,
        work=w,
    )  # fmt: skip


DECISIONS: dict[type[Message], Decision] = {
    bookings.CustomerErased: lambda app, m, w: app.customer_erased(m.tenant_id, m.customer_id, w),
    bookings.BookingHeld: lambda app, m, w: app.note_contact(
        m.tenant_id, m.booking_id, Contact(m.customer_id, m.contact.email), w
    ),
    bookings.DepositRequested: lambda app, m, w: app.request_payment(
        m.tenant_id,
        m.booking_id,
        amount=Money(m.amount.amount_minor, m.amount.currency),
        purpose=Purpose(m.kind),
        token=m.payment_token,
        price_tier=m.price_tier,
        work=w,
    ),
    bookings.BookingConfirmed: lambda app, m, w: app.booking_confirmed(
        m.tenant_id, m.booking_id, Contact(m.customer_id, m.contact.email), w
    ),
    bookings.BookingExpired: lambda app, m, w: app.booking_released(
        m.tenant_id, m.booking_id, "booking expired", w
    ),
    bookings.BookingRejected: lambda app, m, w: app.booking_released(
        m.tenant_id, m.booking_id, f"booking rejected: {m.reason}", w
    ),
    bookings.BookingCancelled: _cancelled,
    bookings.BookingNoShow: lambda app, m, w: app.booking_no_show(
        m.tenant_id, m.booking_id, _money(m.fee), w
    ),
    bookings.BookingRescheduled: lambda app, m, w: app.booking_rescheduled(
        m.tenant_id, m.booking_id, m.change_number, _money(m.change_fee), w
    ),
    bookings.PolicyDefined: lambda app, m, w: app.policies.record(m, w),
}
"""What payments does with each booking event it decides on, by the event's class."""
