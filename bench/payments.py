"""Benchmark the payments service on the local stack, with the simulated card network.

Prints, one ``name: value unit`` line per figure:

- ``payment_auth_p99`` — ``DepositRequested`` published on ``booking.events.v1`` →
  ``PaymentAuthorized`` seen on ``payments.events.v1``: the whole path the booking saga
  waits on (inbox, ledger, dispatcher, simulated network, relay), for 300 bookings at a
  steady 10 requests/s, after 30 of warm-up. The service runs as its own process, with
  the simulator's webhooks on (late, some twice).
  ``payment_auth_p50`` is printed beside it.
- ``ledger_throughput`` — ledger events stored per second by the payments application
  in-process (4 threads): each booking's whole life — contact, deposit requested,
  authorised, confirmed, captured with its receipt, cancelled late (refund requested,
  fee kept), refunded with its receipt — one transaction per step, as the inbox, the
  dispatcher and webhooks save them.

Uses embedded PostgreSQL and Tansu unless ``SLOTLINE_DATABASE_URL`` /
``SLOTLINE_KAFKA_BOOTSTRAP`` are set. Details go to stderr.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from eventsourcing.persistence import Tracking

sys.path.insert(0, str(Path(__file__).parent))

from support import ServiceProcess, figure, infrastructure, percentile, say

from slotline.events.contract import booking as b
from slotline.events.contract.common import Contact, Money, TimeSlot
from slotline.events.contract.payments import PaymentAuthorizationFailed, PaymentAuthorized
from slotline.events.contract.registry import parse_message
from slotline.events.store import ensure_schema, postgres_env
from slotline.events.topics import BOOKING_EVENTS, PAYMENTS_EVENTS
from slotline.events.unit_of_work import UnitOfWork
from slotline.payments.application import Contact as ReceiptContact
from slotline.payments.application import PaymentsApplication
from slotline.payments.domain import facts
from slotline.payments.domain.ledger import Ledger
from slotline.payments.domain.money import Money as LedgerMoney
from slotline.payments.domain.operations import OperationKind
from slotline.payments.domain.payment import Purpose
from slotline.payments.gateway.simulated import SimulatedGateway
from slotline.payments.gateway.simulator.network import CardNetwork

AUTH_WARM_UP = 30
AUTH_BOOKINGS = 300
AUTH_RATE = 10  # requests per second
LEDGER_BOOKINGS = 400
LEDGER_THREADS = 4
TENANT = "bench"
CUSTOMER = "0b6c3a52-3f0e-4f4e-9d4b-6f3a2c1e5d70"


def booking_events(booking_id: str) -> list[b.BookingEvent]:
    start = datetime.now(UTC) + timedelta(days=3)
    held = b.BookingHeld(
        tenant_id=TENANT,
        aggregate_id=booking_id,
        sequence=1,
        booking_id=booking_id,
        reference="SLT-BENCH",
        channel="web",
        customer_id="c-1",
        contact=Contact(name="Ana", email="ana@example.com"),
        consents={"transactional": True},
        service_id="s-1",
        location_id="l-1",
        time_zone="Europe/Athens",
        slot=TimeSlot(start=start, end=start + timedelta(hours=1)),
        resource_ids=["r-1"],
        hold_expires_at=start,
    )
    deposit = b.DepositRequested(
        tenant_id=TENANT,
        aggregate_id=booking_id,
        sequence=2,
        booking_id=booking_id,
        amount=Money(amount_minor=5000, currency="EUR"),
        kind="deposit",
        price_tier="standard",
        payment_token="pm_card_visa",
    )
    return [held, deposit]


async def end_positioned_consumer(bootstrap: str) -> AIOKafkaConsumer:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, fetch_max_wait_ms=5)
    await consumer.start()
    partitions = [
        TopicPartition(PAYMENTS_EVENTS, p)
        for p in consumer.partitions_for_topic(PAYMENTS_EVENTS) or ()
    ]
    consumer.assign(partitions)
    await consumer.seek_to_end(*partitions)
    for partition in partitions:
        await consumer.position(partition)
    return consumer


async def authorisation_latency(bootstrap: str, count: int, rate: float) -> list[float]:
    """Publish ``count`` deposit requests at ``rate`` per second; ms until each is authorised."""
    consumer = await end_positioned_consumer(bootstrap)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    await producer.start()
    sent: dict[str, float] = {}
    seen: dict[str, float] = {}
    outcomes: dict[str, bool] = {}  # booking id → authorised

    async def listen() -> None:
        while len(outcomes) < count:
            batches = await consumer.getmany(timeout_ms=100)
            now = time.perf_counter()
            for records in batches.values():
                for record in records:
                    event = parse_message(record.topic, record.value or b"")
                    if isinstance(event, PaymentAuthorized | PaymentAuthorizationFailed):
                        booking_id = event.booking_id
                        if booking_id in sent and booking_id not in outcomes:
                            outcomes[booking_id] = isinstance(event, PaymentAuthorized)
                            seen[booking_id] = now

    listener = asyncio.create_task(listen())
    try:
        started = time.perf_counter()
        for n in range(count):
            await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
            booking_id = f"bench-{uuid.uuid4().hex[:12]}"
            held, deposit = booking_events(booking_id)
            key = booking_id.encode()
            await producer.send_and_wait(BOOKING_EVENTS, held.to_json(), key=key)
            sent[booking_id] = time.perf_counter()
            await producer.send_and_wait(BOOKING_EVENTS, deposit.to_json(), key=key)
        await asyncio.wait_for(listener, timeout=120)
    finally:
        listener.cancel()
        await producer.stop()
        await consumer.stop()
    failed = [k for k, authorised in outcomes.items() if not authorised]
    if failed:
        say(f"{len(failed)} authorisations failed")
    return [(seen[k] - sent[k]) * 1000 for k in outcomes]


def ledger_life(app: PaymentsApplication, booking_id: str, positions: itertools.count[int]) -> None:
    """One booking's whole money life, step by step as the service saves it."""

    def tracking() -> Tracking:
        return Tracking(f"bench|{booking_id}", next(positions))

    def decided(decision: Callable[[UnitOfWork], None]) -> None:
        """A booking decision as the inbox applies it: in a unit of work with its position."""
        app.command(decision, tracking=tracking())

    eur = LedgerMoney(5000, "EUR")
    contact = ReceiptContact(CUSTOMER, "ana@example.com")
    decided(lambda work: app.note_contact(TENANT, booking_id, contact, work))
    decided(
        lambda work: app.request_payment(
            TENANT,
            booking_id,
            amount=eur,
            purpose=Purpose.DEPOSIT,
            token="pm_card_visa",
            price_tier="standard",
            work=work,
        )
    )
    ledger_id = Ledger.create_id(TENANT, booking_id)
    payment_id = next(iter(app.ledger(TENANT, booking_id).payments))
    app.learn(ledger_id, [facts.Authorized(payment_id, f"pi_{booking_id}", 5000, "simulated")])
    no_email = ReceiptContact(CUSTOMER, None)
    decided(lambda work: app.booking_confirmed(TENANT, booking_id, no_email, work))
    app.learn(ledger_id, [facts.Captured(payment_id, f"pi_{booking_id}", 5000, "simulated")])
    decided(
        lambda work: app.booking_cancelled(
            TENANT,
            booking_id,
            fee=LedgerMoney(2000, "EUR"),
            refund=LedgerMoney(3000, "EUR"),
            reason="late",
            work=work,
        )
    )
    refund = next(
        op
        for op in app.ledger(TENANT, booking_id).pending.values()
        if op.kind is OperationKind.REFUND
    )
    assert refund.refund_id is not None
    app.learn(ledger_id, [facts.Refunded(payment_id, refund.refund_id, 3000, f"re_{booking_id}")])


def ledger_throughput(database_url: str) -> float:
    ensure_schema(database_url, "payments_bench")
    network = CardNetwork(database_url, "card_network_bench")
    app = PaymentsApplication(
        env=postgres_env(database_url, "payments_bench", pool_size=LEDGER_THREADS + 2),
        gateway=SimulatedGateway(network, "whsec_bench"),
    )
    positions = itertools.count(1)
    try:
        ledger_life(app, "warm-up", positions)
        ids = [f"ledger-{n}" for n in range(LEDGER_BOOKINGS)]
        started = time.perf_counter()
        with ThreadPoolExecutor(LEDGER_THREADS) as pool:
            list(pool.map(lambda i: ledger_life(app, i, positions), ids))
        elapsed = time.perf_counter() - started
        stored = sum(len(app.history(Ledger.create_id(TENANT, booking_id))) for booking_id in ids)
        say(f"{stored} ledger events for {len(ids)} bookings in {elapsed:.1f}s")
        return stored / elapsed
    finally:
        app.close()


async def main() -> None:
    async with infrastructure("payments") as (database_url, bootstrap, scratch):
        service = ServiceProcess(
            "slotline.payments",
            database_url,
            bootstrap,
            scratch / "payments.log",
            env={"SLOTLINE_RELAY_IDLE_POLL_SECONDS": "0.2"},
        )
        service.launch()
        try:
            await service.wait_ready()
            say("payments ready; warming up (consumer group join, first connections)")
            await authorisation_latency(bootstrap, AUTH_WARM_UP, AUTH_RATE)
            latencies = await authorisation_latency(bootstrap, AUTH_BOOKINGS, AUTH_RATE)
            service.check_alive()
        finally:
            service.stop()
            for line in service.log_summary()[:10]:
                say(f"service log: {line}")
        say(f"{len(latencies)} authorisations measured")
        figure("payment_auth_p99", f"{percentile(latencies, 0.99):.0f} ms")
        figure("payment_auth_p50", f"{percentile(latencies, 0.50):.0f} ms")
        figure("ledger_throughput", f"{ledger_throughput(database_url):.0f} events/s")


if __name__ == "__main__":
    asyncio.run(main())
