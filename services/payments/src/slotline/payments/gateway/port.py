"""What payments needs from a payment gateway, whichever it is.

Calls are synchronous (run them in a worker thread) and carry the ledger's
idempotency key; each answers with the gateway fact it produced. A gateway that cannot
be reached raises :class:`GatewayUnavailable` — the caller may retry with the same key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from slotline.payments.domain.facts import (
    AuthorizationRefused,
    Authorized,
    Captured,
    GatewayFact,
    Observation,
    Refunded,
    Voided,
)


class GatewayUnavailable(Exception):
    """No answer (timeout, connection refused, 5xx): the outcome is unknown."""


class WebhookRejected(Exception):
    """A webhook whose signature does not verify, or that is not JSON."""


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    """Money to reserve (or take) on a tokenised payment method."""

    tenant_id: str
    booking_id: str
    payment_id: str
    amount: int
    currency: str
    token: str
    description: str = ""

    def metadata(self) -> dict[str, str]:
        """What the gateway keeps with the payment, to find the ledger again."""
        return {
            "tenant_id": self.tenant_id,
            "booking_id": self.booking_id,
            "payment_id": self.payment_id,
        }


@dataclass(frozen=True, slots=True)
class PaymentAddress:
    """Where an existing payment lives: our ids and the gateway's reference."""

    tenant_id: str
    booking_id: str
    payment_id: str
    reference: str | None


@dataclass(frozen=True)
class IntentToOpen:
    """A PaymentIntent to open for a booking request not yet sent (Payment Element)."""

    tenant_id: str
    request_id: str
    amount_minor: int
    currency: str
    description: str


@dataclass(frozen=True)
class OpenedIntent:
    payment_intent_id: str
    client_secret: str


class Gateway(Protocol):
    """A payment gateway: reserve, take, release, give back, and tell what it knows."""

    name: str

    def authorize(self, request: PaymentRequest, key: str) -> Authorized | AuthorizationRefused:
        """Reserve the amount (manual capture)."""
        ...

    def charge(self, request: PaymentRequest, key: str) -> Captured | AuthorizationRefused:
        """Reserve and take at once (a fee beyond what is held)."""
        ...

    def open_intent(self, intent: IntentToOpen, key: str) -> OpenedIntent:
        """Open a PaymentIntent for the customer's browser to confirm."""
        ...

    def capture(self, payment: PaymentAddress, amount: int, key: str) -> Captured: ...

    def void(self, payment: PaymentAddress, key: str) -> Voided: ...

    def refund(
        self, payment: PaymentAddress, refund_id: str, amount: int, key: str
    ) -> Refunded: ...

    def state_of(self, payment: PaymentAddress) -> list[GatewayFact]:
        """Everything the gateway knows about a payment, as facts (for reconciliation)."""
        ...

    def read_webhook(self, payload: bytes, signature: str | None) -> list[Observation]:
        """Verify a webhook's signature and turn it into facts about ledgers."""
        ...


class GatewayRejected(Exception):
    """The gateway refused an operation (e.g. capture of a cancelled payment)."""
