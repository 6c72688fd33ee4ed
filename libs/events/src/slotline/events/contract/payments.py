"""``payments.events.v1`` — the per-booking ledger: authorisations, captures, refunds, fees.

Published by the payments service; read by booking (confirm or reject), notifier
(receipts and refund notices) and analysts. Aggregate: the booking's ledger. Card
numbers never appear: only gateway tokens and references.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import ConfigDict, Field

from slotline.events.contract.common import Id, Money
from slotline.events.envelope import Message
from slotline.events.topics import PAYMENTS_EVENTS


class PaymentEvent(Message):
    TOPIC: ClassVar[str] = PAYMENTS_EVENTS
    KEY: ClassVar[str] = "{booking_id}"
    ABSTRACT: ClassVar[bool] = True

    booking_id: Id = Field(description="The booking the money is for.")
    payment_id: Id = Field(description="The ledger entry's payment (one per authorisation).")


class FailureReason(StrEnum):
    """Why a gateway did not authorise."""

    DECLINED = "declined"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    AUTHENTICATION_REQUIRED = "authentication_required"
    NETWORK_TIMEOUT = "network_timeout"
    EXPIRED_CARD = "expired_card"
    PROCESSING_ERROR = "processing_error"


class FeeKind(StrEnum):
    """Which policy fee was charged."""

    LATE_CANCELLATION = "late_cancellation"
    NO_SHOW = "no_show"
    CHANGE = "change"


_GATEWAY_REFERENCE = "The gateway's id for the operation (e.g. a PaymentIntent id)."


class PaymentAuthorized(PaymentEvent):
    """The gateway reserved the amount on the customer's payment method."""

    amount: Money = Field(description="What was reserved.")
    gateway: str = Field(max_length=32, description="stripe or simulated.")
    gateway_reference: str = Field(max_length=128, description=_GATEWAY_REFERENCE)


class PaymentAuthorizationFailed(PaymentEvent):
    """The gateway refused or could not be reached; the booking should not go ahead."""

    amount: Money = Field(description="What was asked for.")
    reason: FailureReason = Field(description="Why it failed.")
    detail: str = Field(default="", max_length=500, description="The gateway's explanation.")
    retryable: bool = Field(default=False, description="Trying again may succeed.")


class PaymentCaptured(PaymentEvent):
    """Reserved money was taken."""

    amount: Money = Field(description="What was taken.")
    gateway_reference: str = Field(max_length=128, description=_GATEWAY_REFERENCE)


class PaymentRefunded(PaymentEvent):
    """Money went back to the customer, fully or in part."""

    amount: Money = Field(description="What went back.")
    full: bool = Field(description="Everything paid was refunded.")
    reason: str = Field(max_length=200, description="e.g. cancelled inside the free window.")
    refund_id: Id | None = Field(default=None, description="The ledger's refund id.")


class FeeCharged(PaymentEvent):
    """A late-cancellation, no-show or change fee was charged."""

    fee: FeeKind = Field(description="Which fee.")
    amount: Money = Field(description="How much.")


class PaymentVoided(PaymentEvent):
    """An authorisation was released without capture."""

    amount: Money = Field(description="What is no longer reserved.")


class ReceiptIssued(PaymentEvent):
    """A receipt exists for a payment or refund, at a stable link (the notifier sends it)."""

    PERSONAL: ClassVar[tuple[str, ...]] = ("url", "recipient_email")
    SCHEMA_VERSION: ClassVar[int] = 2

    receipt_id: Id = Field(description="The receipt.")
    amount: Money = Field(description="The amount it records.")
    url: str = Field(max_length=2048, description="Stable HTML link.")
    recipient_email: str | None = Field(default=None, description="Where to send it, if known.")
    refund: bool = Field(default=False, description="A refund receipt, not a payment receipt.")


class FeeNotCollected(PaymentEvent):
    """A policy fee (or part of it) could not be collected: nothing held, no payment
    method on file, or the charge was refused. ``payment_id`` is the fee's charge, if any."""

    fee: FeeKind = Field(description="Which fee.")
    amount: Money = Field(description="What is still owed.")
    reason: str = Field(max_length=200, description="Why it was not collected.")


class ReceiptIssuedV1(ReceiptIssued):
    """A receipt exists for a payment or refund, at a stable link (the notifier sends it).

    Version 1, read still: its personal fields travel in clear (version 2 seals them).
    """

    model_config = ConfigDict(title=ReceiptIssued.EVENT_TYPE)
    EVENT_TYPE: ClassVar[str] = ReceiptIssued.EVENT_TYPE
    SCHEMA_VERSION: ClassVar[int] = 1
    PERSONAL: ClassVar[tuple[str, ...]] = ()
