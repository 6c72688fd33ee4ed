"""Benchmark the waitlist's refill: a booked slot is cancelled while a customer waits for
it → the offer's text is accepted by the SMS provider. Availability (api + projector),
booking and the notifier run as their own processes; the notifier sends through the
Twilio-compatible provider simulator served by this process, which stamps each message
when it accepts it. Prints one ``name: value unit`` line per figure:

- ``waitlist_refill_p99`` (and p50) — ``BENCH_WAITLIST_ROUNDS`` rounds (default 60),
  ``BENCH_WAITLIST_CONCURRENCY`` at a time (default 4): each books a slot of its own
  (one therapist, one room: nobody else can take it), puts a customer on the waitlist for
  exactly that start, then cancels the booking through its manage link; the time from
  sending the cancellation to the provider accepting the waitlisted customer's offer
  (cancel → availability frees the slot → booking offers and holds it → notifier sends).
- ``waitlist_refill_offered_p99`` — the same rounds, cancel sent → ``WaitlistOffered``
  read from Kafka by this process (the booking side's share).

Uses embedded PostgreSQL and Tansu unless ``SLOTLINE_DATABASE_URL`` /
``SLOTLINE_KAFKA_BOOTSTRAP`` are set. Details and the services' logs go to stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from datetime import datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

import httpx
import psycopg
from aiokafka import AIOKafkaConsumer
from support import (
    LIMITS_OUT_OF_THE_WAY,
    ServiceProcess,
    availability_processes,
    figure,
    infrastructure,
    percentile,
    say,
)

from slotline.availability import demo
from slotline.availability.application import AvailabilityApplication
from slotline.events.contract.registry import ContractViolation, parse_message
from slotline.events.contract.waitlist import WaitlistOffered
from slotline.events.local.infra import free_port
from slotline.events.store import ensure_schema, postgres_env
from slotline.events.topics import BOOKING_EVENTS
from slotline.notifier.simulator import ProviderSimulator, serving

TENANT = "bench-waitlist"
ATHENS = ZoneInfo("Europe/Athens")
ROUNDS = int(os.environ.get("BENCH_WAITLIST_ROUNDS", "60"))
CONCURRENCY = int(os.environ.get("BENCH_WAITLIST_CONCURRENCY", "4"))
HOURS = range(2, 23, 2)  # a 60-minute service and its buffer: two hours apart never touch


def open_clinic(database_url: str) -> demo.Clinic:
    """One therapist and one room, open nearly round the clock, bookable for the rounds."""
    ensure_schema(database_url, "availability")
    catalog = AvailabilityApplication(env=postgres_env(database_url, "availability"))
    days = ROUNDS // len(HOURS) + 3
    try:
        return demo.open_clinic(
            catalog,
            TENANT,
            staff=1,
            rooms=1,
            opens=clock_time(1),
            closes=clock_time(23, 59),
            horizon=timedelta(days=days + 2),
        )
    finally:
        catalog.close()


def starts() -> list[datetime]:
    today = datetime.now(ATHENS).date()
    return [
        datetime.combine(
            today + timedelta(days=2 + n // len(HOURS)), clock_time(HOURS[n % len(HOURS)]), ATHENS
        )
        for n in range(ROUNDS)
    ]


def mobile(n: int) -> str:
    return f"+3069{n:08d}"


class Offers:
    """Reads ``WaitlistOffered`` from Kafka, stamping when each entry's offer arrives."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.seen: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.consumer = AIOKafkaConsumer(
            BOOKING_EVENTS, bootstrap_servers=self.bootstrap, group_id=None, fetch_max_wait_ms=10
        )
        await self.consumer.start()
        await self.consumer.seek_to_end()
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while True:
            batches = await self.consumer.getmany(timeout_ms=50)
            now = time.time()
            for records in batches.values():
                for record in records:
                    with contextlib.suppress(ContractViolation):  # not ours to judge here
                        message = parse_message(record.topic, record.value or b"")
                        if isinstance(message, WaitlistOffered):
                            self.seen.setdefault(message.entry_id, now)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.consumer.stop()


async def one_round(
    client: httpx.AsyncClient, booking_url: str, clinic: demo.Clinic, n: int, start: datetime
) -> tuple[str, str, float]:
    """Book ``start``, wait for it, cancel: (entry id, waiter's phone, cancel sent at)."""
    place = {"service_id": str(clinic.service_id), "location_id": str(clinic.location_id)}
    booked = await client.post(
        f"{booking_url}/v1/public/{TENANT}/bookings",
        json={**place, "name": f"Booker {n}", "phone": mobile(n), "start": start.isoformat()},
    )
    if booked.status_code != 201:
        raise RuntimeError(f"round {n}: booking {booked.status_code} {booked.text[:200]}")
    waiter = mobile(500_000 + n)
    local = start.strftime("%H:%M")
    joined = await client.post(
        f"{booking_url}/v1/public/{TENANT}/waitlist",
        json={
            **place,
            "name": f"Waiter {n}",
            "phone": waiter,
            "day": start.date().isoformat(),
            "earliest": local,
            "latest": local,
        },
    )
    if joined.status_code != 201:
        raise RuntimeError(f"round {n}: waitlist {joined.status_code} {joined.text[:200]}")
    sent_at = time.time()
    cancelled = await client.post(booked.json()["manage_url"] + "/cancel", json={})
    if cancelled.status_code != 200:
        raise RuntimeError(f"round {n}: cancel {cancelled.status_code} {cancelled.text[:200]}")
    return joined.json()["entry_id"], waiter, sent_at


async def refill(
    booking_url: str, clinic: demo.Clinic, simulator: ProviderSimulator, offers: Offers
) -> None:
    rounds: list[tuple[str, str, float]] = []
    gate = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(timeout=30) as client:

        async def run(n: int, start: datetime) -> None:
            async with gate:
                rounds.append(await one_round(client, booking_url, clinic, n, start))

        await asyncio.gather(*(run(n, s) for n, s in enumerate(starts())))
    waiters = {phone for _, phone, _ in rounds}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if waiters <= {m["To"] for m in simulator.accepted}:
            break
        await asyncio.sleep(0.1)
    accepted_at: dict[str, float] = {}
    for message in simulator.accepted:
        accepted_at.setdefault(message["To"], message["at"])
    sent_ms = [(accepted_at[p] - at) * 1000 for _, p, at in rounds if p in accepted_at]
    offered_ms = [(offers.seen[e] - at) * 1000 for e, _, at in rounds if e in offers.seen]
    say(f"offers on Kafka: {len(offered_ms)}/{len(rounds)}; texts sent: {len(sent_ms)}")
    if offered_ms:
        figure("waitlist_refill_offered_p99", f"{percentile(offered_ms, 0.99):.0f} ms")
    if len(sent_ms) < len(rounds):
        raise RuntimeError(f"only {len(sent_ms)} of {len(rounds)} offers reached the provider")
    figure("waitlist_refill_p50", f"{percentile(sent_ms, 0.5):.0f} ms")
    figure("waitlist_refill_p99", f"{percentile(sent_ms, 0.99):.0f} ms")


async def known_to_booking(database_url: str) -> None:
    """Booking learns the service from availability's events; wait until it knows it."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with contextlib.suppress(psycopg.Error):
            async with await psycopg.AsyncConnection.connect(database_url) as connection:
                cursor = await connection.execute(
                    "SELECT count(*) FROM booking.catalog_service WHERE tenant_id = %s", (TENANT,)
                )
                row = await cursor.fetchone()
                if row and row[0] >= 1:
                    return
        await asyncio.sleep(0.5)
    raise TimeoutError("booking never learnt the benchmark's service")


async def main() -> int:
    began = time.monotonic()
    simulator = ProviderSimulator(account_sid="AC_bench", auth_token="bench-provider-token")
    async with (
        infrastructure("waitlist") as (database_url, bootstrap, tmp),
        serving(simulator, free_port()) as provider_url,
    ):
        clinic = open_clinic(database_url)
        env = {"SLOTLINE_RELAY_IDLE_POLL_SECONDS": "0.5", **LIMITS_OUT_OF_THE_WAY}
        port = free_port()  # manage links must point at this booking process
        booking = ServiceProcess(
            "slotline.booking",
            database_url,
            bootstrap,
            tmp / "booking.log",
            env={**env, "SLOTLINE_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"},
            port=port,
        )
        notifier = ServiceProcess(
            "slotline.notifier",
            database_url,
            bootstrap,
            tmp / "notifier.log",
            env={
                **env,
                "SLOTLINE_PROVIDER_URL": provider_url,
                "SLOTLINE_PROVIDER_ACCOUNT_SID": simulator.account_sid,
                "SLOTLINE_PROVIDER_AUTH_TOKEN": simulator.auth_token,
            },
        )
        services = [*availability_processes(database_url, bootstrap, tmp, env), booking, notifier]
        for service in services:
            service.launch()
        offers = Offers(bootstrap)
        try:
            for service in services:
                await service.wait_ready()
            await known_to_booking(database_url)
            say(f"services ready after {time.monotonic() - began:.1f}s")
            await offers.start()
            await refill(booking.base_url, clinic, simulator, offers)
        finally:
            with contextlib.suppress(Exception):
                await offers.stop()
            for service in services:
                service.stop()
                for line in service.log_summary()[:8]:
                    say(f"{service.module}: {line}")
    say(f"total {time.monotonic() - began:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
