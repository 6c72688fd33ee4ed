"""Fixtures of the payments tests: the application and the simulated card network on a
real PostgreSQL database, and the whole service once per module."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import pytest

from slotline.events.contract import booking as b
from slotline.events.contract.common import Contact, Money
from slotline.events.envelope import Message
from slotline.events.store import ensure_schema, postgres_env
from slotline.events.testing.samples import sample
from slotline.payments.application import PaymentsApplication
from slotline.payments.gateway.simulated import SimulatedGateway
from slotline.payments.gateway.simulator.network import CardNetwork

WEBHOOK_SECRET = "whsec_test_secret"

# --- booking's events, as the booking service would publish them ---------------------------


def eur(amount_minor: int) -> Money:
    return Money(amount_minor=amount_minor, currency="EUR")


@dataclass
class BookingStory:
    """One booking's events with increasing sequence numbers (its aggregate's versions)."""

    tenant_id: str
    booking_id: str = field(default_factory=lambda: f"bk-{uuid.uuid4().hex[:12]}")
    email: str = "ana@example.com"
    sequence: int = 0

    def _next(self, cls: type[Message], **fields: Any) -> Message:
        self.sequence += 1
        base = sample(cls).model_dump() if cls is b.BookingConfirmed or cls is b.BookingHeld else {}
        return cls.model_validate(
            base
            | {
                "tenant_id": self.tenant_id,
                "aggregate_id": self.booking_id,
                "booking_id": self.booking_id,
                "sequence": self.sequence,
            }
            | fields
        )

    def contact(self) -> dict[str, Any]:
        return Contact(name="Ana", email=self.email).model_dump()

    def held(self) -> Message:
        return self._next(b.BookingHeld, contact=self.contact())

    def deposit(
        self, amount: int, pay_with: str | None = "tok_visa", tier: str = "standard"
    ) -> Message:
        return self._next(
            b.DepositRequested,
            amount=eur(amount).model_dump(),
            kind="deposit",
            price_tier=tier,
            payment_token=pay_with,
        )

    def confirmed(self) -> Message:
        return self._next(b.BookingConfirmed, contact=self.contact())

    def cancelled(self, *, inside: bool, fee: int | None, refund: int | None) -> Message:
        return self._next(
            b.BookingCancelled,
            by="customer",
            within_free_window=inside,
            fee=eur(fee).model_dump() if fee is not None else None,
            refund=eur(refund).model_dump() if refund is not None else None,
        )

    def rescheduled(self, change_number: int, fee: int | None) -> Message:
        slot = sample(b.BookingHeld).model_dump()["slot"]
        return self._next(
            b.BookingRescheduled,
            by="customer",
            previous_slot=slot,
            slot=slot,
            resource_ids=["r-1"],
            change_number=change_number,
            change_fee=eur(fee).model_dump() if fee is not None else None,
        )

    def no_show(self, fee: int) -> Message:
        return self._next(b.BookingNoShow, fee=eur(fee).model_dump())

    def expired(self) -> Message:
        return self._next(b.BookingExpired)


def policy(tenant_id: str, tier: str, *, price: int, tax_bp: int, deposit: int) -> Message:
    return b.PolicyDefined(
        tenant_id=tenant_id,
        aggregate_id=f"{tenant_id}:{tier}",
        sequence=1,
        price_tier=tier,
        price=eur(price),
        tax_rate_basis_points=tax_bp,
        taxes_included=True,
        payment=b.PaymentRequirement.DEPOSIT,
        deposit=eur(deposit),
        free_cancellation_hours=24,
        late_cancellation_fee=eur(2000),
        no_show_fee=eur(deposit),
        free_changes=1,
        change_fee=eur(500),
    )


@pytest.fixture
def story() -> type[BookingStory]:
    """Builds one booking's events: ``story(tenant).held()``, ``.deposit(5000)``, …"""
    return BookingStory


class PolicyOf(Protocol):
    """:func:`policy`, as the ``policy_defined`` fixture gives it."""

    def __call__(
        self, tenant_id: str, tier: str, *, price: int, tax_bp: int, deposit: int
    ) -> Message: ...


@pytest.fixture
def policy_defined() -> PolicyOf:
    return policy


@pytest.fixture
def network(database_url: str) -> Iterator[CardNetwork]:
    card_network = CardNetwork(database_url, timeout_seconds=0.05, webhook_delay_seconds=0)
    yield card_network
    card_network.close()


@pytest.fixture
def app(database_url: str, network: CardNetwork) -> Iterator[PaymentsApplication]:
    ensure_schema(database_url, "payments")
    env = postgres_env(database_url, "payments")
    application = PaymentsApplication(
        env=env, gateway=SimulatedGateway(network, WEBHOOK_SECRET), clock=lambda: datetime.now(UTC)
    )
    yield application
    application.close()
