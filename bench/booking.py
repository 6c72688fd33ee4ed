"""Benchmark the booking saga end to end: availability and booking as their own
processes, requests published to ``booking.requests.v1`` as a channel adapter would,
outcomes read from ``booking.events.v1``. No payment is due (the policy default).

Prints, one ``name: value unit`` line per figure:

- ``booking_e2e_p50_at_10_per_s`` / ``…p99…`` and ``…_at_50_per_s`` — request published
  → its ``BookingConfirmed`` consumed, at 10 and 50 requests/s for 20 s (after warm-up):
  rates the stack sustains, so this is one saga's latency.
- ``booking_e2e_p50`` / ``booking_e2e_p99`` — the same at 100 requests/s for 20 s; where
  that is above the stack's throughput the figures measure the queue that builds up.
- ``booking_throughput`` — bookings confirmed per second when 2,000 requests are
  published at once (saturation), first publish → last confirmation.
- ``booking_refused`` — requests that did not end confirmed (should be 0: every request
  asks for a free slot of its own).
- ``burst_final_answers`` — 200 customers post to the public endpoint at once for 3
  slots; answers that are final (201 confirmed or 409 refused) within the endpoint's
  wait, out of 200 (a 202 means "still deciding"); ``burst_confirmed`` must be 3, and
  ``burst_answer_p50`` / ``…p99`` time the answers.

- ``long_e2e_p50_at_40_per_s_for_300_s`` / ``…p99…``, ``long_cpu_per_booking_…`` and,
  per process, ``long_gc_full_passes_last_minute_<process>`` and
  ``long_gc_full_pass_mean_last_minute_<process>`` — the phase ``long`` only
  (``BENCH_BOOKING_PHASES=long``, ``make bench-booking-long``): five minutes at 40
  requests/s (``BENCH_LONG_SECONDS``), and the garbage collector's full passes in its
  last minute, once the caches are full.

``BENCH_BOOKING_PHASES=burst`` runs only the burst (``saga,burst`` by default;
``saga,gentle`` stops the saga after the 10 and 50/s rates, with their CPU per booking);
``BENCH_KEEP_LOGS=<dir>`` keeps the services' logs there. Uses embedded PostgreSQL and
Tansu unless ``SLOTLINE_DATABASE_URL`` /
``SLOTLINE_KAFKA_BOOTSTRAP`` are set. Details go to stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from uuid import uuid4
from zoneinfo import ZoneInfo

import httpx
import psycopg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families
from support import (
    LIMITS_OUT_OF_THE_WAY,
    CpuMeter,
    ServiceProcess,
    TopicCounts,
    availability_processes,
    figure,
    infrastructure,
    percentile,
    say,
)

from slotline.availability import demo
from slotline.availability.application import AvailabilityApplication
from slotline.events.contract.booking import BookingConfirmed, BookingExpired, BookingRejected
from slotline.events.contract.booking_requests import BookingRequested
from slotline.events.contract.common import Channel, Contact
from slotline.events.contract.registry import announced_class, parse_message
from slotline.events.store import ensure_schema, postgres_env
from slotline.events.topics import (
    AVAILABILITY_COMMANDS,
    AVAILABILITY_EVENTS,
    BOOKING_EVENTS,
    BOOKING_REQUESTS,
)

TENANT = "bench"
ATHENS = ZoneInfo("Europe/Athens")
CLINICS = 4
STAFF = 10
SLOTS_PER_DAY = 16  # 75-minute steps from 02:00 local: 60-min service + 15-min buffer
DAYS = 28
RATE = 100
GENTLE_RATES = (10, 50)  # rates this 2-core machine sustains: the latency of one saga
BURST = 200
BURST_SLOTS = 3
STEADY_SECONDS = 20
LONG_RATE = 40  # the long phase: a rate the stack sustains for minutes
WARMUP = 100
SATURATION = 2_000
SETTLED = (BookingConfirmed, BookingRejected, BookingExpired)


@dataclass
class Outcome:
    confirmed: bool
    at: float


class Slots:
    """Hands out distinct free slots, spread over clinics and days so that requests in
    flight together rarely touch the same resource day."""

    def __init__(self, clinics: list[demo.Clinic]) -> None:
        self.clinics = clinics
        self.next = 0
        self.first_day = (datetime.now(ATHENS) + timedelta(days=2)).date()

    def take(self) -> tuple[demo.Clinic, datetime]:
        k = self.next
        self.next += 1
        clinic = self.clinics[k % len(self.clinics)]
        j = k // len(self.clinics)
        day = self.first_day + timedelta(days=j % DAYS)
        slot = (j // DAYS) % SLOTS_PER_DAY
        seat = j // (DAYS * SLOTS_PER_DAY)
        if seat >= STAFF:
            raise RuntimeError("the benchmark ran out of free slots")
        minutes = 120 + slot * 75
        start = datetime.combine(day, clock_time(minutes // 60, minutes % 60), ATHENS)
        return clinic, start.astimezone(UTC)

    def after_the_window(self, count: int) -> list[tuple[demo.Clinic, datetime]]:
        """``count`` slots (one per clinic) on the day after the ``DAYS`` the saga phases
        use: the therapist the burst pins cannot already be booked there (their requests
        name no therapist, so an earlier one may have been given any)."""
        day = self.first_day + timedelta(days=DAYS)
        noon = datetime.combine(day, clock_time(12, 0), ATHENS)  # on the grid: 120 + 8 × 75 min
        return [(self.clinics[n % len(self.clinics)], noon.astimezone(UTC)) for n in range(count)]


def request(clinic: demo.Clinic, start: datetime) -> BookingRequested:
    request_id = f"bench-{uuid4().hex}"
    return BookingRequested(
        tenant_id=TENANT,
        aggregate_id=request_id,
        request_id=request_id,
        channel=Channel.PARTNER,
        contact=Contact(name="Bench Customer", phone="+306940000000"),
        service_id=str(clinic.service_id),
        location_id=str(clinic.location_id),
        slot_start=start,
    )


class Outcomes:
    """Follows ``booking.events.v1`` and notes when each request settled."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.settled: dict[str, Outcome] = {}
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(
            BOOKING_EVENTS,
            bootstrap_servers=self.bootstrap,
            group_id=None,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=10,
        )
        await consumer.start()
        self.task = asyncio.create_task(self._follow(consumer))

    async def _follow(self, consumer: AIOKafkaConsumer) -> None:
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=50)
                now = time.perf_counter()
                for batch in batches.values():
                    for record in batch:
                        # routed by its headers, as a channel adapter would: the
                        # benchmark's own CPU is taken from the stack it measures
                        named = announced_class(record.topic, record.headers)
                        if named is not None and not issubclass(named, SETTLED):
                            continue
                        message = parse_message(record.topic, record.value or b"")
                        if isinstance(message, SETTLED) and message.request_id:
                            self.settled.setdefault(
                                message.request_id,
                                Outcome(isinstance(message, BookingConfirmed), now),
                            )
        finally:
            await consumer.stop()

    async def wait(self, request_ids: list[str], timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        while any(r not in self.settled for r in request_ids):
            if time.monotonic() > deadline:
                missing = sum(r not in self.settled for r in request_ids)
                raise TimeoutError(f"{missing} requests unsettled after {timeout}s")
            await asyncio.sleep(0.1)


async def publish_at_rate(
    producer: AIOKafkaProducer, slots: Slots, count: int, rate: float
) -> dict[str, float]:
    sent: dict[str, float] = {}
    began = time.perf_counter()
    for n in range(count):
        due = began + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        message = request(*slots.take())
        sent[message.request_id] = time.perf_counter()
        await producer.send(BOOKING_REQUESTS, message.to_json(), key=message.aggregate_id.encode())
    return sent


def open_clinics(
    database_url: str, count: int = CLINICS, price_tier: str = "standard"
) -> list[demo.Clinic]:
    """``count`` clinics of the benchmark's tenant, open nearly round the clock, each with
    ``STAFF`` therapists and rooms, bookable ``DAYS`` days ahead (and a margin), their
    service priced by booking's policy for ``price_tier``."""
    ensure_schema(database_url, "availability")
    catalog = AvailabilityApplication(env=postgres_env(database_url, "availability"))
    try:
        return [
            demo.open_clinic(
                catalog,
                TENANT,
                staff=STAFF,
                rooms=STAFF,
                opens=clock_time(1),
                closes=clock_time(23, 59),
                horizon=timedelta(days=DAYS + 5),
                price_tier=price_tier,
            )
            for _ in range(count)
        ]
    finally:
        catalog.close()


async def main() -> None:
    async with infrastructure("booking") as (database_url, bootstrap, tmp):
        clinics = open_clinics(database_url)
        env = {
            "SLOTLINE_RELAY_IDLE_POLL_SECONDS": "0.5",
            # one machine plays 200 customers: the per-address limits would refuse them
            **LIMITS_OUT_OF_THE_WAY,
        }
        booking = ServiceProcess(
            "slotline.booking", database_url, bootstrap, tmp / "booking.log", env=env
        )
        services = [*availability_processes(database_url, bootstrap, tmp, env), booking]
        for service in services:
            service.launch()
        try:
            for service in services:
                await service.wait_ready()
            say("availability and booking ready")
            await catalogue_reached_booking(database_url, len(clinics))
            slots = Slots(clinics)
            phases = os.environ.get("BENCH_BOOKING_PHASES", "saga,burst").split(",")
            if "saga" in phases:
                meter = CpuMeter(
                    {
                        s.module.split(".")[-1] + _role(s): s.process.pid
                        for s in services
                        if s.process
                    }
                )
                await run(bootstrap, slots, meter, gentle_only="gentle" in phases)
            if "burst" in phases:
                await burst_over_http(booking.base_url, slots)
            if "long" in phases:
                meter = CpuMeter(
                    {
                        s.module.split(".")[-1] + _role(s): s.process.pid
                        for s in services
                        if s.process
                    }
                )
                await long_run(bootstrap, slots, meter, services)
            if os.environ.get("BENCH_KEEP_LOGS"):
                for service in services:
                    say(f"log kept: {service.log_path}")
                    shutil.copy(service.log_path, Path(os.environ["BENCH_KEEP_LOGS"]))
        finally:
            for service in services:
                service.stop()
                for line in service.log_summary()[:8]:
                    say(f"{service.module}: {line}")


async def catalogue_reached_booking(database_url: str, services: int) -> None:
    """Booking learns services from availability's events; wait until it knows them."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with contextlib.suppress(psycopg.Error):
            async with await psycopg.AsyncConnection.connect(database_url) as connection:
                cursor = await connection.execute(
                    "SELECT count(*) FROM booking.catalog_service WHERE tenant_id = %s", (TENANT,)
                )
                row = await cursor.fetchone()
                if row and row[0] >= services:
                    return
        await asyncio.sleep(0.5)
    raise TimeoutError("booking never learnt the benchmark's services")


def _role(service: ServiceProcess) -> str:
    role = service.env.get("SLOTLINE_AVAILABILITY_ROLE", "")
    return f"_{role}" if role else ""


@contextlib.asynccontextmanager
async def channel(bootstrap: str, slots: Slots) -> AsyncIterator[tuple[AIOKafkaProducer, Outcomes]]:
    """A channel adapter's side of the saga, warmed up: a producer of requests and the
    outcomes followed."""
    outcomes = Outcomes(bootstrap)
    await outcomes.start()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    await producer.start()
    try:
        warm = await publish_at_rate(producer, slots, WARMUP, 50)
        await outcomes.wait(list(warm), timeout=180)
        say(f"warm-up: {WARMUP} bookings settled")
        yield producer, outcomes
    finally:
        await producer.stop()
        if outcomes.task:
            outcomes.task.cancel()


SAGA_TOPICS = (BOOKING_REQUESTS, BOOKING_EVENTS, AVAILABILITY_COMMANDS, AVAILABILITY_EVENTS)


async def run(bootstrap: str, slots: Slots, meter: CpuMeter, *, gentle_only: bool) -> None:
    counts = TopicCounts(bootstrap, SAGA_TOPICS)
    async with channel(bootstrap, slots) as (producer, outcomes):
        for rate in GENTLE_RATES:
            await counts.start()
            meter.start()
            gentle = await publish_at_rate(producer, slots, rate * STEADY_SECONDS, rate)
            await outcomes.wait(list(gentle))
            # against cpu_per_booking at saturation: what small batches cost
            meter.report(f"cpu_per_booking_at_{rate}_per_s", len(gentle), "booking")
            await counts.report(f"kafka_records_at_{rate}_per_s", len(gentle))
            latencies = [(outcomes.settled[r].at - t) * 1000 for r, t in gentle.items()]
            figure(f"booking_e2e_p50_at_{rate}_per_s", f"{percentile(latencies, 0.50):.1f} ms")
            figure(f"booking_e2e_p99_at_{rate}_per_s", f"{percentile(latencies, 0.99):.1f} ms")
        if gentle_only:
            return

        steady = await publish_at_rate(producer, slots, RATE * STEADY_SECONDS, RATE)
        await outcomes.wait(list(steady))
        latencies = [(outcomes.settled[r].at - t) * 1000 for r, t in steady.items()]
        refused = [r for r in steady if not outcomes.settled[r].confirmed]
        figure("booking_e2e_p50", f"{percentile(latencies, 0.50):.1f} ms")
        figure("booking_e2e_p99", f"{percentile(latencies, 0.99):.1f} ms")

        meter.start()
        burst = await publish_at_rate(producer, slots, SATURATION, 1e9)
        first = min(burst.values())
        await outcomes.wait(list(burst))
        meter.report("cpu_per_booking", SATURATION, "booking")
        last = max(outcomes.settled[r].at for r in burst)
        refused += [r for r in burst if not outcomes.settled[r].confirmed]
        confirmed = SATURATION - sum(1 for r in refused if r in burst)
        figure("booking_throughput", f"{confirmed / (last - first):.1f} bookings/s")
        figure("booking_refused", f"{len(refused)} requests")


async def long_run(
    bootstrap: str, slots: Slots, meter: CpuMeter, services: list[ServiceProcess]
) -> None:
    """Minutes at one rate: what a short phase does not show — the heap a process keeps
    (its caches, its view of the world) grows, and with it each full pass of the
    garbage collector, which holds the whole process. Its passes are read from each
    service's ``/metrics`` over the last minute, when the caches are full."""
    seconds = int(os.environ.get("BENCH_LONG_SECONDS", "300"))
    async with channel(bootstrap, slots) as (producer, outcomes):
        meter.start()
        publishing = asyncio.create_task(
            publish_at_rate(producer, slots, LONG_RATE * seconds, LONG_RATE)
        )
        await asyncio.sleep(max(0, seconds - 60))
        late = await full_passes(services)
        sent = await publishing
        end = await full_passes(services)
        await outcomes.wait(list(sent))
        meter.report(f"long_cpu_per_booking_at_{LONG_RATE}_per_s", len(sent), "booking")
    latencies = [(outcomes.settled[r].at - t) * 1000 for r, t in sent.items()]
    suffix = f"at_{LONG_RATE}_per_s_for_{seconds}_s"
    figure(f"long_e2e_p50_{suffix}", f"{percentile(latencies, 0.50):.1f} ms")
    figure(f"long_e2e_p99_{suffix}", f"{percentile(latencies, 0.99):.1f} ms")
    for name in sorted(end):
        count = end[name][0] - late[name][0]
        spent = end[name][1] - late[name][1]
        figure(f"long_gc_full_passes_last_minute_{name}", f"{count:.0f} passes")
        mean = f"{1000 * spent / count:.1f} ms" if count else "none"
        figure(f"long_gc_full_pass_mean_last_minute_{name}", mean)


async def full_passes(services: list[ServiceProcess]) -> dict[str, tuple[float, float]]:
    """Each service's full (generation 2) collections so far: how many, seconds spent."""
    found: dict[str, tuple[float, float]] = {}
    async with httpx.AsyncClient(timeout=5) as client:
        for service in services:
            text = (await client.get(f"{service.base_url}/metrics")).text
            samples = {
                sample.name: sample.value
                for family in text_string_to_metric_families(text)
                if family.name == "slotline_gc_pause_seconds"
                for sample in family.samples
                if sample.labels.get("generation") == "2"
            }
            name = service.module.split(".")[-1] + _role(service)
            found[name] = (
                samples.get("slotline_gc_pause_seconds_count", 0.0),
                samples.get("slotline_gc_pause_seconds_sum", 0.0),
            )
    return found


async def burst_over_http(base_url: str, slots: Slots) -> None:
    """200 customers on phones tap "book" together for 3 slots, through the public
    endpoint: each must hear 201 or 409 within the endpoint's wait (202 = undecided).

    Each customer is a client of its own, with its own connection, as each phone is:
    one httpx client shared by 200 requests spent up to 13 ms of this process's time
    per request on its pool's bookkeeping (the requests reached the service 0.65 s
    apart at first, 2.6 s with the connections opened beforehand) — the benchmark's
    cost, not the service's."""
    wanted = slots.after_the_window(BURST_SLOTS)

    async def customer(n: int, client: httpx.AsyncClient) -> tuple[int, float]:
        clinic, start = wanted[n % BURST_SLOTS]
        body = {
            "name": f"Burst Customer {n}",
            "phone": f"+30694{n:07d}",  # 200 different people
            "service_id": str(clinic.service_id),
            "location_id": str(clinic.location_id),
            "start": start.isoformat(),
            "staff_id": str(clinic.staff_ids[0]),  # one therapist: one place per slot
        }
        began = time.perf_counter()
        response = await client.post(f"/v1/public/{TENANT}/bookings", json=body)
        return response.status_code, (time.perf_counter() - began) * 1000

    async with contextlib.AsyncExitStack() as phones:
        clients = [
            await phones.enter_async_context(httpx.AsyncClient(base_url=base_url, timeout=30))
            for _ in range(BURST)
        ]
        answers = await asyncio.gather(*(customer(n, c) for n, c in enumerate(clients)))
    codes = [code for code, _ in answers]
    elapsed = [ms for _, ms in answers]
    say(f"burst answers: { {code: codes.count(code) for code in sorted(set(codes))} }")
    figure("burst_final_answers", f"{sum(code in (201, 409) for code in codes)} of {BURST}")
    figure("burst_confirmed", f"{codes.count(201)} bookings")
    figure("burst_answer_p50", f"{percentile(elapsed, 0.50):.1f} ms")
    figure("burst_answer_p99", f"{percentile(elapsed, 0.99):.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
