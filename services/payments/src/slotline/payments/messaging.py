"""Kafka side of the payments service: what it publishes and what it consumes.

Publishes the ledgers' facts on ``payments.events.v1`` (through the outbox relay),
keyed by booking id. Consumes ``booking.events.v1`` through the idempotent inbox:
booking's decisions become ledger decisions; ``PolicyDefined`` feeds the policy copy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import Tracking

from slotline.events.contract import booking as bookings
from slotline.events.contract import payments as public
from slotline.events.contract.common import Money as WireMoney
from slotline.events.envelope import Message
from slotline.events.inbox import Rejected
from slotline.events.publishing import Publisher
from slotline.events.runtime import Subscription
from slotline.events.topics import BOOKING_EVENTS
from slotline.payments.application import PaymentsApplication
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
            return public.PaymentAuthorizationFailed(
                **common,
                amount=money(payment.amount),
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
                recipient_email=ledger.email,
                refund=receipt.is_refund,
            )
    return None


def _deposit_id(ledger: Ledger) -> str | None:
    deposits = [p for p in ledger.payments.values() if p.purpose is not Purpose.FEE]
    return deposits[-1].payment_id if deposits else None


# --- consuming ---------------------------------------------------------------------------


DECISIONS: frozenset[type[Message]] = frozenset(
    {
        bookings.BookingHeld,
        bookings.DepositRequested,
        bookings.BookingConfirmed,
        bookings.BookingExpired,
        bookings.BookingRejected,
        bookings.BookingCancelled,
        bookings.BookingNoShow,
        bookings.BookingRescheduled,
        bookings.PolicyDefined,
    }
)
"""The booking events payments acts on; the rest (a customer registered, a waitlist
line, a request answered…) are acknowledged without a transaction of their own."""


def subscriptions(application: PaymentsApplication) -> Sequence[Subscription]:
    """Booking's events, each applied exactly once."""
    effect = booking_decisions(application)
    return (Subscription(BOOKING_EVENTS, effect=effect, handles=DECISIONS),)


def booking_decisions(app: PaymentsApplication) -> Callable[[Message, Tracking], None]:
    """The effect of one booking event; a decision that can never apply is dead-lettered."""

    def apply(message: Message, tracking: Tracking) -> None:
        try:
            _apply(app, message, tracking)
        except ValueError as error:  # currency mismatch, zero deposit, bad amounts
            raise Rejected(f"{type(error).__name__}: {error}") from error

    return apply


def _money(value: WireMoney | None) -> Money | None:
    return None if value is None else Money(value.amount_minor, value.currency)


def _apply(app: PaymentsApplication, message: Message, tracking: Tracking) -> None:
    tenant = message.tenant_id
    match message:
        case bookings.BookingHeld():
            app.note_contact(tenant, message.booking_id, message.contact.email, tracking)
        case bookings.DepositRequested():
            app.request_payment(
                tenant,
                message.booking_id,
                amount=Money(message.amount.amount_minor, message.amount.currency),
                purpose=Purpose(message.kind),
                token=message.payment_token,
                price_tier=message.price_tier,
                tracking=tracking,
            )
        case bookings.BookingConfirmed():
            app.booking_confirmed(tenant, message.booking_id, message.contact.email, tracking)
        case bookings.BookingExpired():
            app.booking_released(tenant, message.booking_id, "booking expired", tracking)
        case bookings.BookingRejected():
            app.booking_released(
                tenant, message.booking_id, f"booking rejected: {message.reason}", tracking
            )
        case bookings.BookingCancelled():
            window = "inside" if message.within_free_window else "outside"
            app.booking_cancelled(
                tenant,
                message.booking_id,
                fee=_money(message.fee),
                refund=_money(message.refund),
                reason=f"cancelled by {message.by.value} {window} the free window",
                tracking=tracking,
            )
        case bookings.BookingNoShow():
            app.booking_no_show(tenant, message.booking_id, _money(message.fee), tracking)
        case bookings.BookingRescheduled():
            app.booking_rescheduled(
                tenant,
                message.booking_id,
                message.change_number,
                _money(message.change_fee),
                tracking,
            )
        case bookings.PolicyDefined():
            app.policies.record(message, tracking)
        case _:  # not in DECISIONS: only a direct caller gets here
            app.skip(tracking)
