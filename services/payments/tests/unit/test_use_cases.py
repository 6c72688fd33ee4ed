"""Payments' use cases on the in-memory store: booking's decisions open and move a
ledger, each exactly once per inbox position — no PostgreSQL, no card network (the
gateway is called by the dispatcher, never by these use cases)."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import count
from typing import Any

import pytest
from eventsourcing.persistence import Tracking

from slotline.events.contract.booking import PolicyDefined
from slotline.events.unit_of_work import AlreadyApplied
from slotline.payments.application import PaymentsApplication, UnknownLedger
from slotline.payments.domain.money import Money
from slotline.payments.domain.operations import OperationKind
from slotline.payments.domain.payment import Purpose
from slotline.payments.policies import MemoryPolicyBook

pytestmark = pytest.mark.unit

_positions = count(1)


class NoCallsExpected:
    """The gateway port: a use case that calls it fails the test, naming the call."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"a use case called the gateway's {name}")

    def close(self) -> None:
        """Closing the application closes its gateway: no call."""


@pytest.fixture
def app() -> Iterator[PaymentsApplication]:
    application = PaymentsApplication(gateway=NoCallsExpected())
    yield application
    application.close()


def position(booking_id: str) -> Tracking:
    return Tracking(f"test|booking.events.v1|{booking_id}", next(_positions))


def ask_deposit(app: PaymentsApplication, booking_id: str, tracking: Tracking) -> None:
    """Booking asked for a deposit: the decision in a unit of work with its position, as
    the inbox applies it."""
    app.command(
        lambda work: app.request_payment(
            "acme",
            booking_id,
            amount=Money(2000, "EUR"),
            purpose=Purpose.DEPOSIT,
            token="tok_visa",
            price_tier="standard",
            work=work,
        ),
        tracking=tracking,
    )


def test_the_store_is_in_memory(app: PaymentsApplication) -> None:
    assert isinstance(app.policies, MemoryPolicyBook)


def test_a_deposit_asked_opens_a_ledger_with_an_authorisation_to_make(
    app: PaymentsApplication,
) -> None:
    ask_deposit(app, "b-1", position("b-1"))
    ledger = app.ledger("acme", "b-1")
    assert [op.kind for op in ledger.pending.values()] == [OperationKind.AUTHORIZE]
    assert ledger.deposit is not None
    assert ledger.deposit.amount == 2000


def test_a_redelivered_decision_changes_nothing(app: PaymentsApplication) -> None:
    tracking = position("b-2")
    ask_deposit(app, "b-2", tracking)
    version = app.ledger("acme", "b-2").version
    with pytest.raises(AlreadyApplied):
        ask_deposit(app, "b-2", tracking)
    assert app.ledger("acme", "b-2").version == version


def test_a_release_of_a_booking_that_never_paid_opens_no_ledger(
    app: PaymentsApplication,
) -> None:
    tracking = position("b-3")
    app.command(
        lambda work: app.booking_released("acme", "b-3", "hold expired", work), tracking=tracking
    )
    with pytest.raises(UnknownLedger):
        app.ledger("acme", "b-3")
    with pytest.raises(AlreadyApplied):  # its position is recorded all the same
        app.command(
            lambda work: app.booking_released("acme", "b-3", "hold expired", work),
            tracking=tracking,
        )


def test_a_policy_definition_is_kept_once_per_position(app: PaymentsApplication) -> None:
    defined = PolicyDefined.model_validate(
        {
            "tenant_id": "acme",
            "aggregate_id": "acme:standard",
            "price_tier": "standard",
            "payment": "deposit",
            "tax_rate_basis_points": 2400,
            "taxes_included": True,
            "free_cancellation_hours": 24,
            "free_changes": 1,
        }
    )
    tracking = position("policy")
    app.command(lambda work: app.policies.record(defined, work), tracking=tracking)
    kept = app.policies.get("acme", "standard")
    assert kept is not None
    assert kept.tax.rate_basis_points == 2400
    with pytest.raises(AlreadyApplied):
        app.command(lambda work: app.policies.record(defined, work), tracking=tracking)
