"""Crashes, lost answers and missed webhooks, on a real PostgreSQL and the simulated network:
retry and reconciliation repair the ledger, and the customer is charged once."""

from __future__ import annotations

import os
from collections.abc import Callable, Collection
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import Tracking
from psycopg import Cursor
from psycopg.rows import DictRow
from typer.testing import CliRunner

from slotline.events.unit_of_work import AlreadyApplied
from slotline.payments.application import Contact, PaymentsApplication
from slotline.payments.cli import app as cli
from slotline.payments.dispatch import GatewayDispatcher
from slotline.payments.domain.facts import GatewayFact
from slotline.payments.domain.ledger import Ledger
from slotline.payments.domain.money import Money
from slotline.payments.domain.operations import Operation, OperationKind
from slotline.payments.domain.payment import Payment, PaymentStatus, Purpose
from slotline.payments.gateway.simulator.network import CardNetwork, NetworkError
from slotline.payments.reconciliation import Reconciler

pytestmark = pytest.mark.integration

_positions = iter(range(1, 10_000))


class Crash(RuntimeError):
    pass


CUSTOMER = "5b0f7f0e-4d7a-4a53-9a3f-1f2e3d4c5b6a"


def crash_after(kind: OperationKind) -> Callable[[Operation, GatewayFact], None]:
    def after_call(operation: Operation, fact: GatewayFact) -> None:
        if operation.kind is kind:
            raise Crash(f"process died after the {kind.value} call")

    return after_call


def decide(app: PaymentsApplication, booking_id: str, **payment: Any) -> Ledger:
    """Booking asked for a deposit (as the inbox would apply it)."""
    app.command(
        lambda work: app.request_payment(
            "acme",
            booking_id,
            amount=Money(payment.get("amount", 5000), "EUR"),
            purpose=Purpose.DEPOSIT,
            token=payment.get("token", "tok_visa"),
            price_tier="standard",
            work=work,
        ),
        tracking=Tracking("test|booking.events.v1|" + booking_id, next(_positions)),
    )
    return app.ledger("acme", booking_id)


def confirm(app: PaymentsApplication, booking_id: str) -> None:
    tracking = Tracking("test|booking.events.v1|" + booking_id, next(_positions))
    app.command(
        lambda work: app.booking_confirmed("acme", booking_id, Contact(CUSTOMER, None), work),
        tracking=tracking,
    )


def deposit_of(app: PaymentsApplication, booking_id: str) -> Payment:
    """The booking's deposit, which it has asked for."""
    deposit = app.ledger("acme", booking_id).deposit
    assert deposit is not None, f"{booking_id} has no deposit"
    return deposit


def dispatcher(app: PaymentsApplication, database_url: str, **options: Any) -> GatewayDispatcher:
    return GatewayDispatcher(app, database_url=database_url, attempts=1, **options)


def charges(network: CardNetwork, booking_id: str) -> list[tuple[str, int, int]]:
    return [
        (i["status"], i["amount_capturable"], i["amount_received"])
        for i in network.intents_of_booking(booking_id)
    ]


class TestACrashBetweenTheCallAndTheLedgerWrite:
    async def test_the_restarted_dispatcher_repeats_the_call_with_its_key_and_charges_once(
        self, app: PaymentsApplication, network: CardNetwork, database_url: str
    ) -> None:
        ledger = decide(app, "b-crash")
        first = dispatcher(app, database_url, after_call=crash_after(OperationKind.AUTHORIZE))
        with pytest.raises(Crash):
            await first.follow_once()
        assert charges(network, "b-crash") == [("requires_capture", 5000, 0)]
        assert deposit_of(app, "b-crash").status is PaymentStatus.AUTHORIZING

        restarted = dispatcher(app, database_url)
        await restarted.follow_once()
        assert deposit_of(app, "b-crash").status is PaymentStatus.AUTHORIZED
        assert charges(network, "b-crash") == [("requires_capture", 5000, 0)]  # still one

        confirm(app, "b-crash")
        crashing = dispatcher(app, database_url, after_call=crash_after(OperationKind.CAPTURE))
        with pytest.raises(Crash):
            await crashing.follow_once()
        await dispatcher(app, database_url).follow_once()
        assert charges(network, "b-crash") == [("succeeded", 0, 5000)]
        events = [type(e) for e in app.history(ledger.id)]
        assert events.count(Ledger.Authorized) == 1
        assert events.count(Ledger.Captured) == 1

    async def test_reconciliation_repairs_it_when_no_dispatcher_comes_back(
        self, app: PaymentsApplication, network: CardNetwork, database_url: str
    ) -> None:
        decide(app, "b-lost")
        await dispatcher(app, database_url).follow_once()
        confirm(app, "b-lost")
        with pytest.raises(Crash):  # captured at the network; the ledger never heard
            await dispatcher(
                app, database_url, after_call=crash_after(OperationKind.CAPTURE)
            ).follow_once()
        reconciler = Reconciler(app, grace_seconds=0)

        preview = reconciler.run(repair=False)
        assert [(d.finding, d.repaired) for d in preview.drifts if d.booking_id == "b-lost"] == [
            ("capture the ledger missed", False)
        ]
        assert deposit_of(app, "b-lost").status is PaymentStatus.AUTHORIZED

        report = reconciler.run()
        mine = [d for d in report.drifts if d.booking_id == "b-lost"]
        assert [(d.finding, d.repaired) for d in mine] == [("capture the ledger missed", True)]
        ledger = app.ledger("acme", "b-lost")
        assert deposit_of(app, "b-lost").status is PaymentStatus.CAPTURED
        assert not ledger.pending
        assert charges(network, "b-lost") == [("succeeded", 0, 5000)]
        assert not [
            d for d in Reconciler(app, grace_seconds=0).run().drifts if d.booking_id == "b-lost"
        ]


class TestReconciliation:
    async def test_a_call_that_never_happened_is_made_with_its_own_key(
        self, app: PaymentsApplication, network: CardNetwork, database_url: str
    ) -> None:
        decide(app, "b-stalled")
        await dispatcher(app, database_url).follow_once()
        confirm(app, "b-stalled")  # the capture is requested; no dispatcher makes it
        capture = next(iter(app.ledger("acme", "b-stalled").pending.values()))
        report = Reconciler(app, grace_seconds=0).run(tenant_id="acme")
        findings = [d.finding for d in report.drifts if d.booking_id == "b-stalled"]
        assert findings == [
            "capture requested but never completed: made again with its key (captured)"
        ]
        assert charges(network, "b-stalled") == [("succeeded", 0, 5000)]
        with pytest.raises(NetworkError) as replayed:  # the key is spent on that capture
            network.capture(
                network.intents_of_booking("b-stalled")[0]["id"],
                {"amount_to_capture": 1},
                capture.key,
            )
        assert replayed.value.error["type"] == "idempotency_error"

    async def test_the_cli_reports_and_repairs_drift(
        self, app: PaymentsApplication, network: CardNetwork, database_url: str
    ) -> None:
        ledger = decide(app, "b-cli", amount=2000)
        await dispatcher(app, database_url).follow_once()
        payment_id = next(iter(app.ledger("acme", "b-cli").payments))
        intent = network.intents_of_booking("b-cli")[0]
        network.cancel(intent["id"], {}, "released-at-the-gateway")  # e.g. the hold lapsed there
        env = {
            "SLOTLINE_DATABASE_URL": database_url,
            "SLOTLINE_GATEWAY_WEBHOOK_SECRET": "whsec_test_secret",
            "SLOTLINE_LOG_JSON": "false",
        }
        runner = CliRunner()
        dry = runner.invoke(cli, ["reconcile", "--dry-run"], env={**os.environ, **env})
        assert dry.exit_code == 0, dry.output
        assert f"payment={payment_id} void the ledger missed [not repaired]" in dry.output
        done = runner.invoke(cli, ["reconcile", "--tenant", "acme"], env={**os.environ, **env})
        assert done.exit_code == 0, done.output
        assert "void the ledger missed [repaired]" in done.output
        assert app.repository.get(ledger.id).deposit is None  # voided: nothing stands
        assert app.ledger("acme", "b-cli").payments[payment_id].status is PaymentStatus.VOIDED


class TestBookingDecisions:
    def test_a_decision_at_a_position_already_recorded_changes_nothing(
        self, app: PaymentsApplication
    ) -> None:
        tracking = Tracking("test|booking.events.v1|b-twice", 7)
        contact = Contact(CUSTOMER, "ana@example.com")
        app.command(
            lambda work: app.note_contact("acme", "b-twice", contact, work), tracking=tracking
        )
        with pytest.raises(AlreadyApplied):  # the inbox counts it a duplicate
            app.command(
                lambda work: app.request_payment(
                    "acme",
                    "b-twice",
                    amount=Money(100, "EUR"),
                    purpose=Purpose.DEPOSIT,
                    token="tok_visa",
                    price_tier=None,
                    work=work,
                ),
                tracking=tracking,
            )
        assert app.ledger("acme", "b-twice").payments == {}

    async def test_a_decision_racing_a_webhook_is_applied_on_the_newer_ledger(
        self, app: PaymentsApplication, database_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        decide(app, "b-race")
        await dispatcher(app, database_url).follow_once()
        ledger_id = Ledger.create_id("acme", "b-race")
        stale: Ledger = app.repository.get(ledger_id)
        original_load = app.load_many
        raced: list[bool] = []

        def load_then_race(
            aggregate_ids: Collection[UUID],
            cursor: Cursor[DictRow] | None = None,
            *,
            take: bool = False,
        ) -> dict[UUID, Any]:
            found = original_load(aggregate_ids, cursor=cursor, take=take)
            if not raced:  # a webhook saves the ledger after the decision read it
                raced.append(True)
                contact = Contact(CUSTOMER, "new@example.com")
                app.command(
                    lambda work: app.note_contact("acme", "b-race", contact, work),
                    tracking=Tracking("other|b-race", 1),
                )
            return found

        monkeypatch.setattr(app, "load_many", load_then_race)
        try:
            confirm(app, "b-race")
        finally:
            monkeypatch.setattr(app, "load_many", original_load)
        assert raced, "the decision read the ledger, then lost the race"
        ledger = app.ledger("acme", "b-race")
        assert ledger.version > stale.version + 1
        assert [op.kind for op in ledger.pending.values()] == [OperationKind.CAPTURE]
        assert ledger.email == "new@example.com"


class TestTheSimulatedNetwork:
    def test_a_key_replays_its_first_answer_and_refuses_other_parameters(
        self, network: CardNetwork
    ) -> None:
        params = {
            "amount": 900,
            "currency": "eur",
            "payment_method": "tok_visa",
            "capture_method": "manual",
        }
        first = network.create_payment_intent(params, "key-1")
        assert network.create_payment_intent(params, "key-1") == first
        with pytest.raises(NetworkError) as other:
            network.create_payment_intent({**params, "amount": 901}, "key-1")
        assert other.value.status == 400
        declined = {**params, "payment_method": "tok_chargeDeclinedInsufficientFunds"}
        for _ in range(2):
            with pytest.raises(NetworkError) as refusal:
                network.create_payment_intent(declined, "key-2")
            assert (refusal.value.status, refusal.value.error["decline_code"]) == (
                402,
                "insufficient_funds",
            )
        assert len({i["id"] for i in network.intents_of_booking("")}) == 0  # no booking metadata

    def test_refunds_never_exceed_what_was_taken(self, network: CardNetwork) -> None:
        params = {"amount": 1000, "currency": "eur", "payment_method": "tok_visa"}
        intent = network.create_payment_intent(params, None)
        network.create_refund({"payment_intent": intent["id"], "amount": 600}, "r-1")
        with pytest.raises(NetworkError) as too_much:
            network.create_refund({"payment_intent": intent["id"], "amount": 600}, "r-2")
        assert too_much.value.error["code"] == "amount_too_large"
        assert [r["amount"] for r in network.refunds_of(intent["id"])] == [600]
