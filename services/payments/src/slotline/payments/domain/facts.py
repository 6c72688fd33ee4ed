"""What a gateway says happened to a payment, however the ledger hears it.

The same fact may arrive as the answer to a call, in a webhook (twice, or out of
order) or from reconciliation; the ledger applies each fact at most once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FailureReason(StrEnum):
    """Why a gateway did not authorise (the values of the public contract)."""

    DECLINED = "declined"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    AUTHENTICATION_REQUIRED = "authentication_required"
    NETWORK_TIMEOUT = "network_timeout"
    EXPIRED_CARD = "expired_card"
    PROCESSING_ERROR = "processing_error"


@dataclass(frozen=True, slots=True)
class Authorized:
    """The amount is reserved on the customer's payment method."""

    payment_id: str
    reference: str
    amount: int
    gateway: str


@dataclass(frozen=True, slots=True)
class AuthorizationRefused:
    """The gateway declined, asked for authentication, or could not be reached."""

    payment_id: str
    reason: FailureReason
    detail: str = ""
    retryable: bool = False


@dataclass(frozen=True, slots=True)
class Captured:
    """Reserved money was taken (``amount`` in total for the payment)."""

    payment_id: str
    reference: str
    amount: int
    gateway: str


@dataclass(frozen=True, slots=True)
class Voided:
    """The reservation was released without capture."""

    payment_id: str


@dataclass(frozen=True, slots=True)
class Refunded:
    """Money went back; ``refund_id`` is the ledger's id (or the gateway's, if not ours)."""

    payment_id: str
    refund_id: str
    amount: int
    gateway_refund_id: str


@dataclass(frozen=True, slots=True)
class OperationStalled:
    """A call the ledger asked for did not complete (gateway unreachable); retry later."""

    key: str
    error: str


GatewayFact = Authorized | AuthorizationRefused | Captured | Voided | Refunded | OperationStalled


@dataclass(frozen=True, slots=True)
class Observation:
    """A fact together with the ledger it belongs to (from the gateway's metadata)."""

    tenant_id: str
    booking_id: str
    fact: GatewayFact
