"""``payments.events.v1`` — the per-booking ledger: authorisations, captures, refunds, fees.

Published by the payments service; read by booking (confirm or reject), notifier
(receipts) and analysts. Aggregate: the booking's ledger. Card numbers never appear:
only gateway tokens and references.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from slotline.events.contract.common import Id, Money
from slotline.events.envelope import Message
from slotline.events.topics import PAYMENTS_EVENTS


class PaymentEvent(Message):
    TOPIC: ClassVar[str] = PAYMENTS_EVENTS
    ABSTRACT: ClassVar[bool] = True

    booking_id: Id
    payment_id: Id


class FailureReason(StrEnum):
    DECLINED = "declined"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    AUTHENTICATION_REQUIRED = "authentication_required"
    NETWORK_TIMEOUT = "network_timeout"
    EXPIRED_CARD = "expired_card"
    PROCESSING_ERROR = "processing_error"


class FeeKind(StrEnum):
    LATE_CANCELLATION = "late_cancellation"
    NO_SHOW = "no_show"
    CHANGE = "change"


class PaymentAuthorized(PaymentEvent):
    """The gateway reserved the amount on the customer's payment method."""

    amount: Money
    gateway: str = Field(max_length=32)
    gateway_reference: str = Field(max_length=128)


class PaymentAuthorizationFailed(PaymentEvent):
    """The gateway refused or could not be reached; the booking should not go ahead."""

    amount: Money
    reason: FailureReason
    detail: str = Field(default="", max_length=500)
    retryable: bool = False


class PaymentCaptured(PaymentEvent):
    """Reserved money was taken."""

    amount: Money
    gateway_reference: str = Field(max_length=128)


class PaymentRefunded(PaymentEvent):
    """Money went back to the customer, fully or in part."""

    amount: Money
    full: bool
    reason: str = Field(max_length=200)


class FeeCharged(PaymentEvent):
    """A late-cancellation, no-show or change fee was charged."""

    fee: FeeKind
    amount: Money


class PaymentVoided(PaymentEvent):
    """An authorisation was released without capture."""

    amount: Money


class ReceiptIssued(PaymentEvent):
    """A receipt exists for a payment or refund, at a stable link."""

    receipt_id: Id
    amount: Money
    url: str = Field(max_length=2048)
    recipient_email: str | None = None
