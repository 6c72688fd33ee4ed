"""Benchmark the availability service on the local stack, over real HTTP.

The service runs as its own process (``python -m slotline.availability``), so the
clients measuring it do not share its interpreter lock; catalog data is seeded through
an in-process ``AvailabilityApplication`` on the same database schema. Prints, one
``name: value unit`` line per figure:

- ``race_double_bookings`` — 1,000 concurrent clients (100 connections) hold the same
  10 slots of a clinic with 3 staff and 2 rooms; overlapping pairs of live holds on
  one resource found by either check: the read model (``overlapping_allocations``,
  once the view caught up) or the event store replayed by a fresh application (every
  live entry of every resource day of the clinic). ``race_holds_won`` shows it is not
  vacuous (2 rooms × 10 slots = 20).
- ``hold_throughput`` / ``hold_latency_p99`` — 3,000 uncontested holds (after 200 of
  warm-up) from 32 concurrent clients over 200 resources (10 clinics of 10 staff + 10
  rooms); the requests in flight together never share a resource day, so none compete.
  ``cpu_per_hold_<part>``: CPU milliseconds per hold of each process meanwhile (the api,
  the projector, PostgreSQL, the broker, the benchmark's own clients).
- ``slots_query_p99`` — 500 ``GET /v1/slots`` (one day / a week / one staff member
  over three days) for a clinic of 20 staff + 20 rooms over a 30-day horizon, one at a
  time; ``slots_query_p99_while_holding`` — the same while holds are placed in that
  clinic at 20/s (each changes a day the queries read).
- ``view_lag_p99`` — hold committed (its ``POST`` answered 201) → an SSE ``slots``
  event for that day shows the held resources no longer free at that slot; 200 holds
  placed one at a time.
- ``projection_rebuild`` — a fresh ``SlotProjection`` replays the whole store
  (≥100,000 events) into the view while the service keeps running.

``BENCH_PHASES=slots,view lag`` runs only the named phases (race, throughput, slots,
view lag, rebuild). Uses embedded PostgreSQL and Tansu unless ``SLOTLINE_DATABASE_URL`` /
``SLOTLINE_KAFKA_BOOTSTRAP`` are set. Details and the service's log go to stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any, cast
from uuid import UUID
from zoneinfo import ZoneInfo

import httpx
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.postgres import PostgresProcessRecorder
from psycopg import sql
from support import (
    CpuMeter,
    ServiceProcess,
    availability_processes,
    figure,
    percentile,
    say,
)

from slotline.availability import demo
from slotline.availability.application import (
    AvailabilityApplication,
    HoldRefused,
    HoldRequest,
    HoldTaken,
)
from slotline.availability.domain.calendar import ResourceDay
from slotline.availability.domain.entries import CalendarEntry
from slotline.availability.live import board
from slotline.availability.live.projection import PROJECTION_NAME, SlotProjection
from slotline.events.kafka import ensure_topics
from slotline.events.local.infra import EmbeddedKafka, EmbeddedPostgres
from slotline.events.logs import configure_logging
from slotline.events.store import ensure_schema, postgres_env
from slotline.events.testing.service import bearer

SCHEMA = "availability"
ATHENS = ZoneInfo("Europe/Athens")
HOLD_TTL_SECONDS = 24 * 3600  # no hold lapses while the benchmark runs: no expiry noise

RACE_CLIENTS = 1_000
RACE_CONNECTIONS = 100
RACE_SLOTS = 10  # 2 hours apart on one day; the clinic opens 03:00-23:00 to fit them

THROUGHPUT_WARMUP = 200
THROUGHPUT_HOLDS = 3_000
THROUGHPUT_CLIENTS = 32
# 200 resources as 10 clinics of 10 therapists + 10 rooms. (One clinic of 100 + 100 is
# another benchmark: there every hold recomputes a 200-resource day view.)
THROUGHPUT_LOCATIONS = 10
THROUGHPUT_STAFF = 10
THROUGHPUT_ROOMS = 10

QUERY_WARMUP = 30
QUERY_REPEATS = 500
QUERY_HOLDS_PER_S = 20  # holds written into the queried clinic during the second run

LAG_HOLDS = 200
LAG_PAUSE_SECONDS = 0.05
LAG_TIMEOUT_SECONDS = 10.0

REBUILD_EVENTS = 100_000


def local(day: date, at: clock_time) -> datetime:
    return datetime.combine(day, at, ATHENS)


def today() -> date:
    return datetime.now(ATHENS).date()


# --- the service process ---------------------------------------------------------------


# --- reading the store and the view -------------------------------------------------------


def recorder(app: AvailabilityApplication) -> PostgresProcessRecorder:
    return cast(PostgresProcessRecorder, app.process_recorder)


def view_position(app: AvailabilityApplication) -> tuple[int, int]:
    """(the store's last event, the live view's position)."""
    last = app.recorder.max_notification_id() or 0
    position = app.process_recorder.max_tracking_id(PROJECTION_NAME) or 0
    return last, position


async def view_caught_up(app: AvailabilityApplication, timeout: float = 300.0) -> float:
    """Wait until the service's projection has applied every stored event; seconds waited."""
    started = time.monotonic()
    while True:
        last, position = await asyncio.to_thread(view_position, app)
        if position >= last:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"the view is at {position} of {last} after {timeout}s")
        await asyncio.sleep(0.1)


def overlapping_pairs(entries: list[CalendarEntry]) -> int:
    """Pairs of entries of one resource day occupying overlapping time (one group
    session — same service and slot, capacity > 1 — shares its resources)."""
    pairs = 0
    for a, b in itertools.combinations(entries, 2):
        same_session = a.capacity > 1 and a.service_id == b.service_id and a.slot == b.slot
        if a.occupied.overlaps(b.occupied) and not same_session:
            pairs += 1
    return pairs


async def post_hold(
    http: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str]
) -> tuple[int, dict[str, Any], int]:
    """POST a hold: (status, answer, retries). A dropped connection is retried once, as
    a real client would: the hold id makes the retry safe (-1: it failed again)."""
    for attempt in range(2):
        try:
            response = await http.post("/v1/holds", json=body, headers=headers)
        except httpx.TransportError as error:
            if attempt:
                return -1, {"error": repr(error)}, attempt
            continue
        try:
            data = response.json()
        except ValueError:
            data = {"body": response.text[:200]}
        return response.status_code, data, attempt
    raise AssertionError("unreachable")


# --- 1. the race -----------------------------------------------------------------------


async def race(app: AvailabilityApplication, service: ServiceProcess) -> None:
    clinic = await asyncio.to_thread(
        demo.open_clinic,
        app,
        "bench-race",
        staff=3,
        rooms=2,
        opens=clock_time(3),
        closes=clock_time(23),
    )
    day = today() + timedelta(days=20)
    starts = [local(day, clock_time(3 + 2 * n)) for n in range(RACE_SLOTS)]
    headers = bearer("front_desk", clinic.tenant_id)
    limits = httpx.Limits(max_connections=RACE_CONNECTIONS, max_keepalive_connections=100)
    timeout = httpx.Timeout(120.0, pool=None)
    gate = asyncio.Event()

    async def client(http: httpx.AsyncClient, n: int) -> tuple[int, dict[str, Any], int]:
        await gate.wait()  # every client ready before the first request leaves
        body = {
            "hold_id": f"race-{n}",
            "service_id": str(clinic.service_id),
            "location_id": str(clinic.location_id),
            "start": starts[n % RACE_SLOTS].isoformat(),
            "ttl_seconds": HOLD_TTL_SECONDS,
        }
        return await post_hold(http, body, headers)

    async with httpx.AsyncClient(base_url=service.base_url, limits=limits, timeout=timeout) as http:
        tasks = [asyncio.create_task(client(http, n)) for n in range(RACE_CLIENTS)]
        await asyncio.sleep(0.1)
        started = time.perf_counter()
        gate.set()
        outcomes = await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    statuses = Counter(status for status, _, _ in outcomes)
    reasons = Counter(d.get("reason") for s, d, _ in outcomes if s == 409)
    retries = sum(r for _, _, r in outcomes)
    say(
        f"race: {RACE_CLIENTS} requests in {elapsed:.1f}s, statuses {dict(statuses)},"
        f" {retries} retried after a dropped connection"
    )
    say(f"race: 409 reasons {dict(reasons)}")
    for status, data, _ in outcomes:
        if status not in (201, 409):
            say(f"race: unexpected answer {status}: {json.dumps(data)[:300]}")
            break
    won = [d for s, d, _ in outcomes if s == 201]

    # The read model, once the service's projection applied every race event.
    waited = await view_caught_up(app)
    say(f"race: the view caught up {waited:.2f}s after the last answer")

    def read_model() -> tuple[int, int]:
        with recorder(app).datastore.transaction(commit=False) as cursor:
            pairs = board.overlapping_allocations(cursor, SCHEMA, datetime.now(UTC))
            cursor.execute(
                sql.SQL(
                    "SELECT count(*) AS n FROM {} WHERE tenant_id = %s AND status = 'held'"
                ).format(sql.Identifier(SCHEMA, "hold_view")),
                (clinic.tenant_id,),
            )
            row = cursor.fetchone()
        return pairs, int(row["n"]) if row else 0

    view_pairs, view_held = await asyncio.to_thread(read_model)

    # The event store, replayed by a fresh application: every live entry of the day.
    def replayed() -> tuple[int, int, int]:
        fresh = AvailabilityApplication(env=app.env)
        try:
            now = datetime.now(UTC)
            pairs = 0
            holders: set[UUID] = set()
            entries_by_resource: dict[UUID, set[UUID]] = {}
            for resource_id in (*clinic.staff_ids, *clinic.room_ids):
                try:
                    calendar: ResourceDay = fresh.repository.get(
                        ResourceDay.create_id(resource_id, day)
                    )
                except AggregateNotFoundError:
                    continue
                entries = calendar.live_entries(now)
                pairs += overlapping_pairs(entries)
                holders |= {e.hold_id for e in entries}
                entries_by_resource[resource_id] = {e.hold_id for e in entries}
            missing = 0  # a 201 whose entries the store does not have
            for hold in won:
                for resource_id in hold["resource_ids"]:
                    if UUID(hold["id"]) not in entries_by_resource.get(UUID(resource_id), ()):
                        missing += 1
            return pairs, len(holders), missing
        finally:
            fresh.close()

    store_pairs, store_holds, missing = await asyncio.to_thread(replayed)
    say(
        f"race: read model {view_pairs} overlapping pairs, {view_held} held;"
        f" event store {store_pairs} overlapping pairs, {store_holds} live holds,"
        f" {missing} won holds missing from their resource days"
    )
    figure("race_double_bookings", str(max(view_pairs, store_pairs)))
    figure("race_holds_won", f"{len(won)} holds")


# --- 2. uncontested holds -----------------------------------------------------------------


async def throughput(
    app: AvailabilityApplication, service: ServiceProcess, processes: list[ServiceProcess]
) -> None:
    clinics = [
        await asyncio.to_thread(
            demo.open_clinic,
            app,
            "bench-throughput",
            staff=THROUGHPUT_STAFF,
            rooms=THROUGHPUT_ROOMS,
            horizon=timedelta(days=30),
        )
        for _ in range(THROUGHPUT_LOCATIONS)
    ]
    await view_caught_up(app)
    first = today() + timedelta(days=1)
    headers = bearer("front_desk", "bench-throughput")
    places = len(clinics)

    def body(k: int) -> dict[str, Any]:
        # Requests k..k+31 (those in flight together) never share a resource day: a
        # location's requests are `places` apart and each is on the next day; a
        # (location, day) pair comes round again 28 days later, 15 minutes later.
        clinic = clinics[k % places]
        day = first + timedelta(days=(k // places) % 28)
        start = local(day, clock_time(9)) + timedelta(minutes=15 * ((k // (places * 28)) % 44))
        return {
            "hold_id": f"tput-{k}",
            "service_id": str(clinic.service_id),
            "location_id": str(clinic.location_id),
            "start": start.isoformat(),
            "ttl_seconds": HOLD_TTL_SECONDS,
        }

    limits = httpx.Limits(max_connections=THROUGHPUT_CLIENTS)
    async with httpx.AsyncClient(
        base_url=service.base_url, limits=limits, timeout=httpx.Timeout(60.0, pool=None)
    ) as http:

        async def run(keys: range) -> tuple[list[float], Counter[int], int, float]:
            todo: Iterator[int] = iter(keys)
            latencies: list[float] = []
            statuses: Counter[int] = Counter()
            retries = 0

            async def worker() -> None:
                nonlocal retries
                for k in todo:
                    began = time.perf_counter()
                    status, data, retried = await post_hold(http, body(k), headers)
                    latencies.append(time.perf_counter() - began)
                    statuses[status] += 1
                    retries += retried
                    if status != 201 and sum(statuses.values()) - statuses[201] <= 3:
                        say(f"throughput: hold {k} answered {status}: {json.dumps(data)[:300]}")

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(THROUGHPUT_CLIENTS)))
            return latencies, statuses, retries, time.perf_counter() - started

        await run(range(THROUGHPUT_WARMUP))
        meter = CpuMeter(
            {
                "availability_" + p.env.get("SLOTLINE_AVAILABILITY_ROLE", "all"): p.process.pid
                for p in processes
                if p.process is not None
            }
        )
        meter.start()
        latencies, statuses, retries, elapsed = await run(
            range(THROUGHPUT_WARMUP, THROUGHPUT_WARMUP + THROUGHPUT_HOLDS)
        )
        meter.report("cpu_per_hold", max(1, statuses[201]), "hold")  # where a hold's time goes
    say(
        f"throughput: {THROUGHPUT_HOLDS} holds in {elapsed:.1f}s, statuses {dict(statuses)},"
        f" {retries} retried after a dropped connection,"
        f" p50 {percentile(latencies, 0.5) * 1000:.1f} ms"
    )
    waited = await view_caught_up(app)
    say(f"throughput: the view caught up {waited:.1f}s after the last answer")
    figure("hold_throughput", f"{statuses[201] / elapsed:.0f} holds/s")
    figure("hold_latency_p99", f"{percentile(latencies, 0.99) * 1000:.1f} ms")


# --- 3. slot queries ------------------------------------------------------------------------


def book_some(app: AvailabilityApplication, clinic: demo.Clinic, days: int, per_day: int) -> int:
    """Holds spread over the horizon, so the view is not uniformly free."""
    placed = 0
    for d in range(1, days):
        for n in range(per_day):
            start = local(today() + timedelta(days=d), clock_time(9)) + timedelta(minutes=45 * n)
            outcome = app.place_hold(
                HoldRequest(
                    clinic.tenant_id,
                    f"seed-{d}-{n}",
                    clinic.service_id,
                    clinic.location_id,
                    start,
                    ttl=timedelta(seconds=HOLD_TTL_SECONDS),
                )
            )
            placed += isinstance(outcome, HoldTaken)
    return placed


async def slot_queries(app: AvailabilityApplication, service: ServiceProcess) -> None:
    clinic = await asyncio.to_thread(
        demo.open_clinic, app, "bench-slots", staff=20, rooms=20, horizon=timedelta(days=30)
    )
    placed = await asyncio.to_thread(book_some, app, clinic, 30, 12)
    await view_caught_up(app)
    headers = bearer("front_desk", clinic.tenant_id)
    base = {"location_id": str(clinic.location_id), "service_id": str(clinic.service_id)}

    def query(n: int) -> dict[str, Any]:
        day = today() + timedelta(days=1 + n % 28)
        midnight = local(day, clock_time(0))
        kind = n % 3
        if kind == 0:  # one day
            until = midnight + timedelta(days=1)
            return {**base, "from": midnight.isoformat(), "until": until.isoformat()}
        if kind == 1:  # a week
            until = midnight + timedelta(days=7)
            return {**base, "from": midnight.isoformat(), "until": until.isoformat(), "limit": 400}
        staff = clinic.staff_ids[n % len(clinic.staff_ids)]  # one therapist, three days
        until = midnight + timedelta(days=3)
        return {
            **base,
            "resource_id": str(staff),
            "from": midnight.isoformat(),
            "until": until.isoformat(),
            "limit": 200,
        }

    async def measure(label: str) -> list[float]:
        latencies: list[float] = []
        by_kind: dict[int, list[float]] = {0: [], 1: [], 2: []}
        rows: Counter[int] = Counter()
        async with httpx.AsyncClient(base_url=service.base_url, timeout=30) as http:
            for n in range(QUERY_WARMUP + QUERY_REPEATS):
                began = time.perf_counter()
                response = await http.get("/v1/slots", params=query(n), headers=headers)
                elapsed = time.perf_counter() - began
                if response.status_code != 200:
                    raise RuntimeError(f"GET /v1/slots: {response.status_code} {response.text}")
                if n >= QUERY_WARMUP:
                    latencies.append(elapsed)
                    by_kind[n % 3].append(elapsed)
                    rows[n % 3] += len(response.json())
        per_kind = {k: rows[k] // max(1, QUERY_REPEATS // 3) for k in range(3)}
        say(
            f"slots ({label}): mean rows per answer (day, week, staff) {per_kind};"
            f" p50 {percentile(latencies, 0.5) * 1000:.1f} ms; p50/p99 per kind (ms) "
            + ", ".join(
                f"{percentile(v, 0.5) * 1000:.1f}/{percentile(v, 0.99) * 1000:.1f}"
                for v in by_kind.values()
            )
        )
        return latencies

    say(f"slots: {placed} holds seeded")
    figure("slots_query_p99", f"{percentile(await measure('quiet'), 0.99) * 1000:.1f} ms")
    statuses: Counter[int] = Counter()
    writing = asyncio.create_task(hold_steadily(service, clinic, statuses))
    try:
        latencies = await measure(f"holds placed alongside at {QUERY_HOLDS_PER_S}/s")
    finally:
        writing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writing
    say(f"slots: holds placed alongside, by status: {dict(statuses)}")
    if statuses[201] == 0:
        raise RuntimeError("no hold was placed while the queries ran: the figure would lie")
    figure("slots_query_p99_while_holding", f"{percentile(latencies, 0.99) * 1000:.1f} ms")


async def hold_steadily(
    service: ServiceProcess, clinic: demo.Clinic, statuses: Counter[int]
) -> None:
    """Place holds in the queried clinic at ``QUERY_HOLDS_PER_S`` until cancelled: each
    one changes a day the queries read (the projector recomputes it meanwhile)."""
    headers = bearer("front_desk", clinic.tenant_id)
    pending: set[asyncio.Task[Any]] = set()

    async def one(http: httpx.AsyncClient, k: int) -> None:
        day = today() + timedelta(days=1 + k % 28)
        # from the clinic's opening (09:00): the first 28 × 4 holds used to start at
        # 08:00-08:45, before it, and were all refused when the queries ended sooner
        start = local(day, clock_time(9)) + timedelta(minutes=15 * ((k // 28) % 44))
        body = {
            "hold_id": f"alongside-{k}",
            "service_id": str(clinic.service_id),
            "location_id": str(clinic.location_id),
            "start": start.isoformat(),
            "ttl_seconds": HOLD_TTL_SECONDS,
        }
        status, _, _ = await post_hold(http, body, headers)
        statuses[status] += 1

    async with httpx.AsyncClient(base_url=service.base_url, timeout=30) as http:
        try:
            for k in itertools.count():
                task = asyncio.create_task(one(http, k))
                pending.add(task)
                task.add_done_callback(pending.discard)
                await asyncio.sleep(1 / QUERY_HOLDS_PER_S)
        finally:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)


# --- 4. view lag over SSE -------------------------------------------------------------------


@dataclass
class SlotEvents:
    """``slots`` events of an SSE stream as they arrive: (arrival time, payload)."""

    received: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    other: Counter[str] = field(default_factory=Counter)

    async def read(self, response: httpx.Response) -> None:
        event, data = "message", []
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                data.append(line.removeprefix("data:").strip())
            elif line == "" and data:
                arrived = time.perf_counter()
                if event == "ready":
                    self.ready.set()
                elif event == "slots":
                    payload = json.loads("\n".join(data))
                    async with self.changed:
                        self.received.append((arrived, payload))
                        self.changed.notify_all()
                else:
                    self.other[event] += 1
                event, data = "message", []

    async def reflecting(
        self, since: int, day: date, start: datetime, resources: set[str], timeout: float
    ) -> float | None:
        """Arrival time of the first event from index ``since`` on showing none of
        ``resources`` free at ``start`` on ``day`` (None: not within ``timeout``)."""
        deadline = time.perf_counter() + timeout
        index = since
        async with self.changed:
            while True:
                for arrived, payload in self.received[index:]:
                    if payload["day"] == day.isoformat() and _reflects(payload, start, resources):
                        return arrived
                index = len(self.received)
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    return None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.changed.wait(), remaining)


def _reflects(payload: dict[str, Any], start: datetime, resources: set[str]) -> bool:
    for slot in payload["slots"]:
        if datetime.fromisoformat(slot["start"]) == start:
            return not resources & set(slot["resource_ids"])
    return True  # the slot is gone from the day: booked out entirely


async def view_lag(app: AvailabilityApplication, service: ServiceProcess) -> None:
    clinic = await asyncio.to_thread(
        demo.open_clinic, app, "bench-lag", staff=2, rooms=2, horizon=timedelta(days=30)
    )
    await view_caught_up(app)
    headers = bearer("front_desk", clinic.tenant_id)
    events = SlotEvents()
    lags: list[float] = []
    early = missed = 0
    url = f"/v1/slots/stream?location_id={clinic.location_id}"
    stream_timeout = httpx.Timeout(30.0, read=None)
    async with (
        httpx.AsyncClient(base_url=service.base_url, timeout=stream_timeout) as sse,
        httpx.AsyncClient(base_url=service.base_url, timeout=30) as http,
        sse.stream("GET", url, headers=headers) as stream,
    ):
        if stream.status_code != 200:
            raise RuntimeError(f"the slot stream answered {stream.status_code}")
        reader = asyncio.create_task(events.read(stream))
        await asyncio.wait_for(events.ready.wait(), 10)
        try:
            for k in range(LAG_HOLDS):
                day = today() + timedelta(days=1 + k // 8)
                start = local(day, clock_time(9)) + timedelta(minutes=90 * (k % 8))
                since = len(events.received)
                response = await http.post(
                    "/v1/holds",
                    json={
                        "hold_id": f"lag-{k}",
                        "service_id": str(clinic.service_id),
                        "location_id": str(clinic.location_id),
                        "start": start.isoformat(),
                        "ttl_seconds": HOLD_TTL_SECONDS,
                    },
                    headers=headers,
                )
                committed = time.perf_counter()
                if response.status_code != 201:
                    raise RuntimeError(f"hold {k} answered {response.status_code}: {response.text}")
                resources = set(response.json()["resource_ids"])
                arrived = await events.reflecting(since, day, start, resources, LAG_TIMEOUT_SECONDS)
                if arrived is None:
                    missed += 1
                    if reader.done():
                        raise RuntimeError(f"the slot stream ended: {reader.exception()!r}")
                    continue
                early += arrived < committed
                lags.append(max(0.0, arrived - committed))
                await asyncio.sleep(LAG_PAUSE_SECONDS)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await reader
    say(
        f"view lag: {len(lags)} holds seen, {missed} not seen within {LAG_TIMEOUT_SECONDS}s,"
        f" {early} seen before their POST returned (counted as 0),"
        f" {len(events.received)} slots events, others {dict(events.other)};"
        f" p50 {percentile(lags, 0.5) * 1000:.1f} ms"
        if lags
        else "view lag: nothing seen"
    )
    if missed:
        say("view lag: not printed — some holds never showed in the stream")
        return
    figure("view_lag_p99", f"{percentile(lags, 0.99) * 1000:.1f} ms")


# --- 5. projection rebuild ------------------------------------------------------------------


def generate_events(app: AvailabilityApplication, target: int) -> int:
    """Hold lifecycles through the application until the store holds ``target`` events:
    clinics of one therapist and one room, eight sessions a day over 29 days; of every
    four holds two are confirmed, one released and one left held."""
    n = 0
    for c in itertools.count():
        if (app.recorder.max_notification_id() or 0) >= target:
            return n
        clinic = demo.open_clinic(app, f"bench-rebuild-{c}", staff=1, rooms=1)
        for d, slot in itertools.product(range(1, 30), range(8)):
            start = local(today() + timedelta(days=d), clock_time(9)) + timedelta(minutes=90 * slot)
            outcome = app.place_hold(
                HoldRequest(
                    clinic.tenant_id,
                    f"gen-{d}-{slot}",
                    clinic.service_id,
                    clinic.location_id,
                    start,
                    ttl=timedelta(seconds=HOLD_TTL_SECONDS),
                )
            )
            if isinstance(outcome, HoldRefused):
                raise RuntimeError(f"generating events: a free slot was refused: {outcome}")
            n += 1
            if n % 4 in (0, 1):
                app.confirm_hold(outcome.hold_id)
            elif n % 4 == 2:
                app.release_hold(outcome.hold_id)
    return n  # pragma: no cover — the loop returns


async def rebuild(app: AvailabilityApplication, database_url: str) -> None:
    started = time.perf_counter()
    holds = await asyncio.to_thread(generate_events, app, REBUILD_EVENTS + 2_000)
    say(
        f"rebuild: {holds} hold lifecycles written in {time.perf_counter() - started:.0f}s;"
        f" store at {app.recorder.max_notification_id()} events"
    )
    waited = await view_caught_up(app, timeout=600)
    say(f"rebuild: the service's view caught up {waited:.1f}s after the last write")

    def replay() -> tuple[int, float]:
        fresh = AvailabilityApplication(env=app.env)  # cold caches
        try:
            projection = SlotProjection(fresh, database_url=database_url)
            projection.rebuild()
            began = time.perf_counter()
            applied = projection.catch_up()
            return applied, time.perf_counter() - began
        finally:
            fresh.close()

    applied, elapsed = await asyncio.to_thread(replay)
    say(f"rebuild: {applied} events replayed in {elapsed:.1f}s")
    figure("projection_rebuild", f"{applied / elapsed:.0f} events/s")
    figure("projection_rebuild_events", f"{applied} events")


# --- main ----------------------------------------------------------------------------------


async def main() -> int:
    configure_logging("bench", "WARNING")
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sys.stderr)
    main_task = asyncio.current_task()
    assert main_task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    tmp = Path(tempfile.mkdtemp(prefix="slotline-bench-availability-"))
    postgres: EmbeddedPostgres | None = None
    kafka: EmbeddedKafka | None = None
    processes: list[ServiceProcess] = []
    app: AvailabilityApplication | None = None
    failed = False
    began = time.monotonic()
    try:
        database_url = os.environ.get("SLOTLINE_DATABASE_URL")
        if not database_url:
            postgres = EmbeddedPostgres(tmp / "pg").start()
            database_url = postgres.create_database("bench_availability")
        bootstrap = os.environ.get("SLOTLINE_KAFKA_BOOTSTRAP")
        if not bootstrap:
            kafka = EmbeddedKafka().start()
            bootstrap = kafka.bootstrap
        await ensure_topics(bootstrap)
        ensure_schema(database_url, SCHEMA)
        app = AvailabilityApplication(env=postgres_env(database_url, SCHEMA, pool_size=4))
        processes = availability_processes(database_url, bootstrap, tmp)
        service = processes[0]  # the one answering HTTP (with the projector beside it)
        for process in processes:
            process.launch()
        for process in processes:
            await process.wait_ready()
        say(f"service ready on {service.base_url} after {time.monotonic() - began:.1f}s")
        phases: list[tuple[str, Callable[[], Any]]] = [
            ("race", lambda: race(app, service)),
            ("throughput", lambda: throughput(app, service, processes)),
            ("slots", lambda: slot_queries(app, service)),
            ("view lag", lambda: view_lag(app, service)),
            ("rebuild", lambda: rebuild(app, database_url)),
        ]
        only = {p.strip() for p in os.environ.get("BENCH_PHASES", "").split(",") if p.strip()}
        for name, phase in phases:
            if only and name not in only:
                continue
            phase_began = time.monotonic()
            try:
                await phase()
            except Exception as error:  # report, go on with the next figure
                failed = True
                say(f"{name}: FAILED {error!r}")
            say(f"{name}: {time.monotonic() - phase_began:.0f}s")
            for process in processes:
                process.check_alive()
    except BaseException:
        failed = True
        raise
    finally:
        for process in processes:
            summary = process.log_summary()
            if summary:
                say(f"{process.log_path.name} logged:")
                for line in summary[:15]:
                    say(f"  {line}")
            process.stop()
        if app is not None:
            app.close()
        if kafka is not None:
            kafka.stop()
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        say(f"total {time.monotonic() - began:.0f}s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
