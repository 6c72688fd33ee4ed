"""The whole payments service on a real port, PostgreSQL, broker and simulated card network:
booking's events in on ``booking.events.v1``, the ledger's facts out on
``payments.events.v1``, webhooks delivered late, twice and out of order."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import anyio
import pytest
from aiokafka import ConsumerRecord
from pydantic import SecretStr

from slotline.events.contract.booking import BookingHeld, CustomerErased
from slotline.events.contract.payments import (
    FeeCharged,
    FeeNotCollected,
    PaymentAuthorizationFailed,
    PaymentAuthorized,
    PaymentCaptured,
    PaymentEvent,
    PaymentRefunded,
    PaymentVoided,
    ReceiptIssued,
)
from slotline.events.contract.registry import parse_message
from slotline.events.envelope import Message
from slotline.events.local.infra import free_port
from slotline.events.privacy.personal import ERASED
from slotline.events.store import postgres_env
from slotline.events.testing.reading import eventually, read_topic
from slotline.events.testing.service import RunningService, bearer, running
from slotline.events.testing.stored import stored_states
from slotline.events.topics import BOOKING_EVENTS, PAYMENTS_EVENTS
from slotline.events.wire_sealing import open_record
from slotline.payments.application import PaymentsApplication
from slotline.payments.domain.facts import GatewayFact
from slotline.payments.domain.ledger import Ledger
from slotline.payments.domain.operations import Operation, OperationKind
from slotline.payments.gateway.simulated import SimulatedGateway
from slotline.payments.gateway.simulator.network import CardNetwork
from slotline.payments.gateway.simulator.webhooks import sign
from slotline.payments.settings import PaymentsSettings
from slotline.payments.wiring import service_spec

if TYPE_CHECKING:  # the fixtures' types (pytest imports conftest itself)
    from services.payments.tests.conftest import BookingStory, PolicyOf

pytestmark = pytest.mark.integration

SECRET = "whsec_service_test"
CARD = "4242 4242 4242 4242"


class SimulatedCrash(RuntimeError):
    """The process 'dies' between the gateway's answer and the ledger write."""


class CrashAfterCall:
    """Crashes the dispatcher once, right after the armed operation's gateway call."""

    def __init__(self) -> None:
        self.armed: set[tuple[OperationKind, str]] = set()
        self.crashed: list[str] = []

    def arm(self, kind: OperationKind, payment_id: str) -> None:
        self.armed.add((kind, payment_id))

    def __call__(self, operation: Operation, fact: GatewayFact) -> None:
        if (operation.kind, operation.payment_id) in self.armed:
            self.armed.discard((operation.kind, operation.payment_id))
            self.crashed.append(operation.key)
            raise SimulatedCrash(f"crash after {operation.kind.value} {operation.key}")


CRASH = CrashAfterCall()


@pytest.fixture(scope="module")
async def service(
    module_database_url: str, module_kafka_bootstrap: str
) -> AsyncIterator[RunningService]:
    """The service as wiring.py builds it, once per module; tests use their own tenants.
    Every webhook is delivered twice, each round shuffled."""
    settings = PaymentsSettings(
        database_url=module_database_url,
        kafka_bootstrap=module_kafka_bootstrap,
        http_port=free_port(),
        relay_idle_poll_seconds=0.2,
        gateway_timeout_seconds=0.1,
        gateway_attempts=2,
        gateway_webhook_secret=SecretStr(SECRET),
        simulator_webhook_delay_seconds=0.3,
        simulator_webhook_duplicate_rate=1.0,
        simulator_webhook_reorder=True,
        reconcile_interval_seconds=3600,
    )
    async with running(service_spec(settings, after_call=CRASH)) as running_service:
        yield running_service


def application(service: RunningService) -> PaymentsApplication:
    return cast(PaymentsApplication, service.runtime.application)


def gateway(service: RunningService) -> SimulatedGateway:
    return cast(SimulatedGateway, application(service).gateway)


def broker_of(service: RunningService) -> Any:
    broker = service.runtime.broker
    assert broker is not None
    return broker


async def send(service: RunningService, *messages: Message) -> None:
    broker = broker_of(service)
    for message in messages:
        await broker.publish(
            message.to_json(), topic=BOOKING_EVENTS, key=message.aggregate_id.encode()
        )


async def payments_records(service: RunningService) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record on ``payments.events.v1`` so far."""
    return await read_topic(
        service.runtime.settings.kafka_bootstrap,
        PAYMENTS_EVENTS,
        expected=1,
        timeout=5,
        settle_seconds=0.5,
    )


Published = tuple[Message, dict[str, Any]]  # a record parsed by the contract, and its JSON


async def published(service: RunningService, booking_id: str) -> list[Published]:
    """The booking's payment events so far, each parsed by the contract and as its JSON."""
    found = [
        (parse_message(PAYMENTS_EVENTS, r.value or b""), open_record(json.loads(r.value or b"{}")))
        for r in await payments_records(service)
    ]
    return [
        (m, body) for m, body in found if isinstance(m, PaymentEvent) and m.booking_id == booking_id
    ]


async def wait_for(
    service: RunningService, booking_id: str, *kinds: type[Message], timeout: float = 30
) -> list[Published]:
    """The booking's payment events once every one of ``kinds`` has been published."""
    found: list[Published] = []

    async def arrived() -> bool:
        nonlocal found
        found = await published(service, booking_id)
        types = [type(m) for m, _ in found]
        return all(types.count(k) >= kinds.count(k) for k in kinds)

    await eventually(arrived, timeout=timeout, interval=0.2)
    return found


def of_type(events: list[Published], kind: type[Message]) -> list[dict[str, Any]]:
    """The JSON of the events of class ``kind``."""
    return [body for m, body in events if isinstance(m, kind)]


def tenant() -> str:
    return f"tenant-{uuid.uuid4().hex[:8]}"


class TestPersonalData:
    async def test_the_receipt_address_is_sealed_and_erased_with_the_customer(
        self, service: RunningService, story: type[BookingStory], policy_defined: PolicyOf
    ) -> None:
        """Issue 17: the address receipts go to is the customer's, sealed under their key
        in payments' event store; booking's ``CustomerErased`` destroys it there too."""
        booking = story(tenant(), email=f"ana-{uuid.uuid4().hex[:8]}@example.com")
        await send(
            service,
            policy_defined(booking.tenant_id, "standard", price=12400, tax_bp=2400, deposit=5000),
        )
        held = cast(BookingHeld, booking.held())
        await send(service, held, booking.deposit(5000), booking.confirmed())
        [receipt] = of_type(
            await wait_for(service, booking.booking_id, ReceiptIssued), ReceiptIssued
        )
        assert receipt["recipient_email"] == booking.email
        app = application(service)
        url = service.runtime.settings.database_url
        raw = await anyio.to_thread.run_sync(stored_states, url, app)
        assert booking.email.encode() not in raw, "the address is readable in payments' store"

        erased = CustomerErased(
            tenant_id=booking.tenant_id,
            aggregate_id=held.customer_id,
            customer_id=held.customer_id,
            erased_at=datetime.now(UTC),
        )
        await broker_of(service).publish(
            erased.to_json(), topic=BOOKING_EVENTS, key=erased.customer_id.encode()
        )

        def replayed_email() -> str | None:
            fresh = PaymentsApplication(env=postgres_env(url, app.schema), gateway=app.gateway)
            try:
                return fresh.ledger(booking.tenant_id, booking.booking_id).email
            finally:
                fresh.close()

        await eventually(lambda: replayed_email() == ERASED, timeout=20)
        await eventually(  # the running service forgets it too (its cache is dropped)
            lambda: app.ledger(booking.tenant_id, booking.booking_id).receipt_email is None
        )


class TestDeposits:
    async def test_an_authorised_deposit_is_captured_on_confirmation_with_a_taxed_receipt(
        self, service: RunningService, story: type[BookingStory], policy_defined: PolicyOf
    ) -> None:
        booking = story(tenant())
        await send(
            service,
            policy_defined(booking.tenant_id, "standard", price=12400, tax_bp=2400, deposit=5000),
        )
        await send(service, booking.held(), booking.deposit(5000))
        authorised = of_type(
            await wait_for(service, booking.booking_id, PaymentAuthorized), PaymentAuthorized
        )
        assert authorised[0]["amount"] == {"amount_minor": 5000, "currency": "EUR"}
        assert authorised[0]["gateway"] == "simulated"
        assert authorised[0]["aggregate_id"] == booking.booking_id

        await send(service, booking.confirmed())
        events = await wait_for(service, booking.booking_id, PaymentCaptured, ReceiptIssued)
        assert of_type(events, PaymentCaptured)[0]["amount"]["amount_minor"] == 5000
        receipt = of_type(events, ReceiptIssued)[0]
        assert receipt["recipient_email"] == booking.email
        assert receipt["refund"] is False
        page = await service.client.get(receipt["url"])
        assert page.status_code == 200
        assert "50.00 EUR" in page.text
        assert "9.68 EUR" in page.text  # 24 % tax inside 50.00
        again = await service.client.get(receipt["url"])
        assert again.text == page.text  # a stable link

    async def test_refused_payments_are_reported_once_each_with_their_reason(
        self, service: RunningService, story: type[BookingStory]
    ) -> None:
        cases = {
            "tok_chargeDeclined": ("declined", False),
            "tok_chargeDeclinedInsufficientFunds": ("insufficient_funds", False),
            "pm_card_authenticationRequired": ("authentication_required", False),
            "tok_simulateTimeout": ("network_timeout", True),
        }
        bookings = {token: story(tenant()) for token in cases}
        for token, booking in bookings.items():
            await send(service, booking.held(), booking.deposit(3000, pay_with=token))
        for token, booking in bookings.items():
            events = await wait_for(service, booking.booking_id, PaymentAuthorizationFailed)
            failed = of_type(events, PaymentAuthorizationFailed)
            assert len(failed) == 1
            assert (failed[0]["reason"], failed[0]["retryable"]) == cases[token]
            assert not of_type(events, PaymentAuthorized)

    async def test_a_request_that_cannot_be_paid_is_answered_not_dead_lettered(
        self, service: RunningService, story: type[BookingStory]
    ) -> None:
        """Booking waits for an answer to every deposit it asks for: a request payments
        cannot send to the gateway (nothing to pay) fails at once, with why."""
        booking = story(tenant())
        await send(service, booking.held(), booking.deposit(0))
        events = await wait_for(service, booking.booking_id, PaymentAuthorizationFailed)
        failed = of_type(events, PaymentAuthorizationFailed)
        assert [(f["reason"], f["retryable"], f["detail"], f["amount"]) for f in failed] == [
            (
                "processing_error",
                False,
                "a deposit of zero needs no authorisation",
                {"amount_minor": 0, "currency": "EUR"},
            )
        ]
        assert gateway(service).network.intents_of_booking(booking.booking_id) == []

    async def test_an_expired_booking_releases_its_authorisation(
        self, service: RunningService, story: type[BookingStory]
    ) -> None:
        booking = story(tenant())
        await send(service, booking.held(), booking.deposit(4000))
        await wait_for(service, booking.booking_id, PaymentAuthorized)
        await send(service, booking.expired())
        events = await wait_for(service, booking.booking_id, PaymentVoided)
        assert of_type(events, PaymentVoided)[0]["amount"]["amount_minor"] == 4000
        intents = gateway(service).network.intents_of_booking(booking.booking_id)
        assert [i["status"] for i in intents] == ["canceled"]


class TestCancellationsAndFees:
    async def confirmed_booking(
        self, service: RunningService, story: type[BookingStory], deposit: int
    ) -> BookingStory:
        booking = story(tenant())
        await send(service, booking.held(), booking.deposit(deposit), booking.confirmed())
        await wait_for(service, booking.booking_id, PaymentCaptured)
        return booking

    async def test_cancelling_inside_the_free_window_refunds_everything(
        self, service: RunningService, story: type[BookingStory]
    ) -> None:
        booking = await self.confirmed_booking(service, story, 5000)
        await send(service, booking.cancelled(inside=True, fee=None, refund=5000))
        events = await wait_for(
            service, booking.booking_id, PaymentRefunded, ReceiptIssued, ReceiptIssued
        )
        refunded = of_type(events, PaymentRefunded)
        assert [(r["amount"]["amount_minor"], r["full"]) for r in refunded] == [(5000, True)]
        assert not of_type(events, FeeCharged)
        receipts = of_type(events, ReceiptIssued)
        assert sorted(r["refund"] for r in receipts) == [False, True]

    async def test_cancelling_late_keeps_the_fee_and_refunds_the_rest(
        self, service: RunningService, story: type[BookingStory]
    ) -> None:
        booking = await self.confirmed_booking(service, story, 5000)
        await send(service, booking.cancelled(inside=False, fee=2000, refund=3000))
        events = await wait_for(service, booking.booking_id, PaymentRefunded, FeeCharged)
        refunded = of_type(events, PaymentRefunded)
        assert [(r["amount"]["amount_minor"], r["full"]) for r in refunded] == [(3000, False)]
        fee = of_type(events, FeeCharged)
        assert [(f["fee"], f["amount"]["amount_minor"]) for f in fee] == [
            ("late_cancellation", 2000)
        ]
        refunds = [
            r
            for intent in gateway(service).network.intents_of_booking(booking.booking_id)
            for r in gateway(service).network.refunds_of(intent["id"])
        ]
        assert [r["amount"] for r in refunds] == [3000]

    async def test_a_paid_change_and_a_no_show_keep_their_fees(
        self, service: RunningService, story: type[BookingStory]
    ) -> None:
        booking = await self.confirmed_booking(service, story, 5000)
        await send(service, booking.rescheduled(1, None), booking.rescheduled(2, 500))
        await send(service, booking.no_show(4500))
        events = await wait_for(service, booking.booking_id, FeeCharged, FeeCharged)
        assert [(f["fee"], f["amount"]["amount_minor"]) for f in of_type(events, FeeCharged)] == [
            ("change", 500),
            ("no_show", 4500),
        ]
        assert not of_type(events, PaymentRefunded)
        assert not of_type(events, FeeNotCollected)


class TestNothingHappensTwice:
    async def test_redelivered_booking_events_authorise_and_capture_once(
        self, service: RunningService, story: type[BookingStory]
    ) -> None:
        booking = story(tenant())
        held, deposit, confirmed = booking.held(), booking.deposit(2500), booking.confirmed()
        await send(service, held, deposit, deposit, confirmed, deposit, confirmed)
        await wait_for(service, booking.booking_id, PaymentCaptured)
        events = await published(service, booking.booking_id)
        assert len(of_type(events, PaymentAuthorized)) == 1
        assert len(of_type(events, PaymentCaptured)) == 1
        assert len(gateway(service).network.intents_of_booking(booking.booking_id)) == 1

    async def test_duplicate_and_out_of_order_webhooks_change_nothing(
        self, service: RunningService, story: type[BookingStory]
    ) -> None:
        booking = story(tenant())
        await send(service, booking.held(), booking.deposit(6000), booking.confirmed())
        await send(service, booking.cancelled(inside=False, fee=1000, refund=5000))
        await wait_for(service, booking.booking_id, PaymentRefunded, FeeCharged)
        network = gateway(service).network

        async def all_delivered() -> bool:
            rows = await anyio.to_thread.run_sync(_undelivered, network, booking.booking_id)
            return not rows

        try:  # each delivered twice, shuffled; a failed post is retried after 1, 2, 4 … s
            await eventually(all_delivered, timeout=45)
        except AssertionError:
            rows = await anyio.to_thread.run_sync(_undelivered, network, booking.booking_id)
            raise AssertionError(f"webhooks still undelivered: {rows}") from None
        app = application(service)
        ledger_id = Ledger.create_id(booking.tenant_id, booking.booking_id)
        version: int = app.repository.get(ledger_id).version
        # Replay every webhook of the booking again, newest first, twice.
        events = await anyio.to_thread.run_sync(_webhook_events, network, booking.booking_id)
        assert {e["type"] for e in events} >= {
            "payment_intent.amount_capturable_updated",
            "payment_intent.succeeded",
            "refund.created",
        }
        for event in [*reversed(events), *reversed(events)]:
            payload = json.dumps(event).encode()
            answer = await service.client.post(
                "/v1/webhooks/simulated",
                content=payload,
                headers={
                    "Stripe-Signature": sign(payload, SECRET),
                    "Content-Type": "application/json",
                },
            )
            assert answer.status_code == 200, answer.text
            assert answer.json()["recorded"] == 0
        assert app.repository.get(ledger_id).version == version
        forged = await service.client.post(
            "/v1/webhooks/simulated",
            content=json.dumps(events[0]).encode(),
            headers={"Stripe-Signature": sign(b"other", SECRET)},
        )
        assert forged.status_code == 400
        published_events = await published(service, booking.booking_id)
        for kind in (PaymentAuthorized, PaymentCaptured, PaymentRefunded, FeeCharged):
            assert len(of_type(published_events, kind)) == 1, kind

    async def test_a_forged_webhook_signed_with_a_leaked_secret_moves_no_money(
        self, service: RunningService, story: type[BookingStory]
    ) -> None:
        """A webhook is a hint to look: the ledger learns what the gateway itself says.
        Signed with the right secret, a webhook claiming that 0.01 was taken on an
        intent the attacker named changes nothing (it captured 0.01 before)."""
        booking = story(tenant())
        await send(service, booking.held(), booking.deposit(3000))
        await wait_for(service, booking.booking_id, PaymentAuthorized)
        network = gateway(service).network
        [real, *_] = await anyio.to_thread.run_sync(_webhook_events, network, booking.booking_id)
        forged = json.loads(json.dumps(real))
        forged.update(id="evt_forged", type="payment_intent.succeeded")
        forged["data"]["object"].update(
            id="pi_attacker_chosen", status="succeeded", amount=1, amount_received=1
        )
        app = application(service)
        ledger_id = Ledger.create_id(booking.tenant_id, booking.booking_id)
        version: int = app.repository.get(ledger_id).version
        payload = json.dumps(forged).encode()
        answer = await service.client.post(
            "/v1/webhooks/simulated",
            content=payload,
            headers={"Stripe-Signature": sign(payload, SECRET)},
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["recorded"] == 0
        assert app.repository.get(ledger_id).version == version
        events = await published(service, booking.booking_id)
        assert not of_type(events, PaymentCaptured), "nothing was taken"

    async def test_a_crash_between_the_gateway_call_and_the_ledger_write_charges_once(
        self, service: RunningService, story: type[BookingStory]
    ) -> None:
        booking = story(tenant())
        ledger_id = Ledger.create_id(booking.tenant_id, booking.booking_id)
        payment_id = str(uuid.uuid5(ledger_id, "payment:1"))
        CRASH.arm(OperationKind.AUTHORIZE, payment_id)
        CRASH.arm(OperationKind.CAPTURE, payment_id)
        await send(service, booking.held(), booking.deposit(7000))
        await wait_for(service, booking.booking_id, PaymentAuthorized)
        await send(service, booking.confirmed())
        events = await wait_for(service, booking.booking_id, PaymentCaptured)
        assert len(CRASH.crashed) >= 2  # both calls were made, then the process 'died'
        assert len(of_type(events, PaymentAuthorized)) == 1
        assert len(of_type(events, PaymentCaptured)) == 1
        intents = gateway(service).network.intents_of_booking(booking.booking_id)
        assert [(i["status"], i["amount_received"]) for i in intents] == [("succeeded", 7000)]


def _undelivered(network: CardNetwork, booking_id: str) -> list[dict[str, Any]]:
    """The booking's webhooks not yet delivered, with their attempts and last error."""
    with network.transaction() as cursor:
        cursor.execute(
            network.statement(
                "SELECT event->>'type' AS type, attempts, last_error, due_at FROM {s}.webhooks"
                " WHERE delivered_at IS NULL"
                " AND event->'data'->'object'->'metadata'->>'booking_id' = %s"
            ),
            (booking_id,),
        )
        return [dict(row) for row in cursor.fetchall()]


def _webhook_events(network: CardNetwork, booking_id: str) -> list[dict[str, Any]]:
    with network.transaction() as cursor:
        cursor.execute(
            network.statement(
                "SELECT event FROM {s}.webhooks"
                " WHERE event->'data'->'object'->'metadata'->>'booking_id' = %s ORDER BY id"
            ),
            (booking_id,),
        )
        return [dict(row["event"]) for row in cursor.fetchall()]


class TestReadsAndQuotes:
    async def test_the_quote_shows_price_taxes_deposit_and_policy(
        self, service: RunningService, policy_defined: PolicyOf
    ) -> None:
        owner = tenant()
        await send(
            service, policy_defined(owner, "premium", price=12400, tax_bp=2400, deposit=3000)
        )
        headers = bearer("channel", owner)

        async def defined() -> bool:
            answer = await service.client.get(
                "/v1/quotes", params={"tier": "premium"}, headers=headers
            )
            return answer.status_code == 200

        await eventually(defined, timeout=20)
        quote = (
            await service.client.get("/v1/quotes", params={"tier": "premium"}, headers=headers)
        ).json()
        assert quote["price"]["total"]["amount_minor"] == 12400
        assert quote["price"]["tax"]["amount_minor"] == 2400
        assert quote["due_now"]["amount_minor"] == 3000
        assert quote["due_at_visit"]["amount_minor"] == 9400
        assert quote["policy"]["free_cancellation_hours"] == 24
        assert any("24 h" in line for line in quote["summary"])
        unknown = await service.client.get("/v1/quotes", params={"tier": "gold"}, headers=headers)
        assert unknown.status_code == 404

    async def test_staff_read_a_ledger_of_their_own_tenant_only(
        self, service: RunningService, story: type[BookingStory]
    ) -> None:
        booking = story(tenant())
        await send(service, booking.held(), booking.deposit(1500))
        await wait_for(service, booking.booking_id, PaymentAuthorized)
        url = f"/v1/ledgers/{booking.booking_id}"
        ledger = (await service.client.get(url, headers=bearer("staff", booking.tenant_id))).json()
        assert [p["status"] for p in ledger["payments"]] == ["authorized"]
        assert [e["type"] for e in ledger["entries"]][:4] == [
            "Opened",
            "ContactNoted",
            "PaymentRequested",
            "Authorized",
        ]
        assert "tok_visa" not in json.dumps(ledger)
        assert (await service.client.get(url, headers=bearer("staff", "other"))).status_code == 404
        assert (
            await service.client.get(url, headers=bearer("analyst", booking.tenant_id))
        ).status_code == 403
        assert (await service.client.get(url)).status_code == 401


class TestCardNumbers:
    async def test_a_card_number_is_refused_and_never_logged_or_published(
        self, service: RunningService, story: type[BookingStory]
    ) -> None:
        lines: list[str] = []

        class Keep(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                if record.name == "httpx":  # this test's own client logging its requests
                    return
                lines.append(f"{record.getMessage()} {record.__dict__!r}")

        root = logging.getLogger()
        keep, level = Keep(logging.DEBUG), root.level
        root.addHandler(keep)
        root.setLevel(logging.DEBUG)
        try:
            manager = bearer("manager", "acme")
            refused = await service.client.post(
                "/v1/reconciliations", json={"dry_run": True, "note": CARD}, headers=manager
            )
            assert refused.status_code == 422
            assert refused.json()["errors"] == [
                {
                    "field": "note",
                    "rule": "card_number",
                    "message": refused.json()["errors"][0]["message"],
                }
            ]
            assert "token" in refused.json()["detail"]
            in_query = await service.client.get(
                "/v1/quotes",
                params={"tier": CARD.replace(" ", "")},
                headers=bearer("channel", "acme"),
            )
            assert in_query.status_code == 422
            webhook = await service.client.post(
                "/v1/webhooks/simulated", json={"card": {"number": CARD}}
            )
            assert webhook.status_code == 422
            booking = story(tenant())
            await send(service, booking.held())
            smuggled = booking.deposit(1000, pay_with="tok_smuggled").to_json()
            broker = service.runtime.broker
            assert broker is not None  # a producer that skipped the contract's validation:
            await broker.publish(
                smuggled.replace(b"tok_smuggled", CARD.replace(" ", "").encode()),
                topic=BOOKING_EVENTS,
                key=booking.booking_id.encode(),
            )
            await send(service, booking.deposit(1000, pay_with="tok_visa"))
            await wait_for(service, booking.booking_id, PaymentAuthorized)
        finally:
            root.removeHandler(keep)
            root.setLevel(level)
        digits = CARD.replace(" ", "")
        assert lines  # the handler saw the requests' log lines
        assert not [line for line in lines if CARD in line or digits in line]
        records = await payments_records(service)
        assert records
        assert not [r for r in records if digits.encode() in (r.value or b"")]
