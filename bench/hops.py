"""Where one booking's time goes, hop by hop: availability and booking as their own
processes, requests published at a gentle rate, then each saga's timeline rebuilt from
the stored domain events (both services' stores) and the Kafka record timestamps.

Prints one ``name: value unit`` line per step (p50 and p99 over the sagas):

- ``hop_relay_<service>`` — domain event stored → its message on Kafka (relay wake-up,
  read, map, publish);
- ``hop_inbox_<service>`` — message on Kafka → the effect's domain event stored (fetch,
  decode, tracking lookup, effect, transaction);
- ``hop_inbox_booking_request`` — the channel's ``BookingRequested`` on Kafka →
  ``Booking.Requested`` stored;
- ``saga_total`` — ``Booking.Requested`` → ``BookingConfirmed`` on Kafka;
- ``request_to_confirmed`` — ``BookingRequested`` on Kafka → ``BookingConfirmed`` on Kafka.

Set ``HOPS_PROFILE=1`` to record a py-spy flame graph of each service meanwhile
(``.data/profiles/<service>.svg``, and a ``--format raw`` text file to grep).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import psycopg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from booking import ATHENS, Slots, catalogue_reached_booking, open_clinics, request
from eventsourcing.utils import resolve_topic
from support import ServiceProcess, availability_processes, figure, infrastructure, percentile, say

from slotline.availability.domain.hold import Hold
from slotline.booking.domain.booking import Booking
from slotline.events.contract import availability_commands as commands
from slotline.events.contract.availability import HoldConfirmed
from slotline.events.contract.booking import BookingConfirmed
from slotline.events.contract.booking_requests import BookingRequested
from slotline.events.contract.registry import ContractViolation, parse_message
from slotline.events.topics import (
    AVAILABILITY_COMMANDS,
    AVAILABILITY_EVENTS,
    BOOKING_EVENTS,
    BOOKING_REQUESTS,
)

TENANT = "bench"
COUNT = int(os.environ.get("HOPS_COUNT", "60"))
RATE = float(os.environ.get("HOPS_RATE", "5"))
PROFILE = os.environ.get("HOPS_PROFILE") == "1"

# (from, to, name): the saga's steps in order; a step is a stored domain event's class
# (when it was stored) or a message class (when its record reached Kafka). Nothing is due
# first for the bench's service, so availability confirms the hold in the step that
# places it: four hops (a deposit adds the ConfirmHold command and its answer, and the
# payment's).
Step = type
STEPS: list[tuple[Step, Step, str]] = [
    (BookingRequested, Booking.Requested, "hop_inbox_booking_request"),
    (Booking.Requested, commands.PlaceHold, "hop_relay_booking"),
    (commands.PlaceHold, Hold.ConfirmedOnPlacing, "hop_inbox_availability"),
    (Hold.ConfirmedOnPlacing, HoldConfirmed, "hop_relay_availability"),
    (HoldConfirmed, Booking.Confirmed, "hop_inbox_booking"),
    (Booking.Confirmed, BookingConfirmed, "hop_relay_booking_2"),
    (Booking.Requested, BookingConfirmed, "saga_total"),
    (BookingRequested, BookingConfirmed, "request_to_confirmed"),
]


async def main() -> None:
    async with infrastructure("hops") as (database_url, bootstrap, tmp):
        clinics = open_clinics(database_url)
        services = {
            "booking": ServiceProcess(
                "slotline.booking", database_url, bootstrap, tmp / "booking.log"
            ),
            **{
                f"availability-{n}": process
                for n, process in enumerate(availability_processes(database_url, bootstrap, tmp))
            },
        }
        for service in services.values():
            service.launch()
        profilers: list[subprocess.Popen[bytes]] = []
        try:
            for service in services.values():
                await service.wait_ready()
            await catalogue_reached_booking(database_url, len(clinics))
            producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
            await producer.start()
            slots = Slots(clinics)
            try:
                for _ in range(20):  # warm-up
                    message = request(*slots.take())
                    await producer.send_and_wait(
                        BOOKING_REQUESTS, message.to_json(), key=message.aggregate_id.encode()
                    )
                await asyncio.sleep(3)
                if PROFILE:
                    profilers = [_profile(name, s) for name, s in services.items()]
                ids = []
                began = time.perf_counter()
                for n in range(COUNT):
                    delay = began + n / RATE - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    message = request(*slots.take())
                    ids.append(message.request_id)
                    await producer.send_and_wait(
                        BOOKING_REQUESTS, message.to_json(), key=message.aggregate_id.encode()
                    )
                await asyncio.sleep(5)
            finally:
                await producer.stop()
            for profiler in profilers:
                profiler.wait(timeout=60)
            await report(database_url, bootstrap, ids)
        finally:
            for service in services.values():
                service.stop()


def _profile(name: str, service: ServiceProcess) -> subprocess.Popen[bytes]:
    out = Path(".data/profiles")
    out.mkdir(parents=True, exist_ok=True)
    assert service.process is not None
    seconds = str(int(COUNT / RATE) + 2)
    py_spy = str(Path(sys.executable).with_name("py-spy"))
    args = ["record", "--pid", str(service.process.pid), "--duration", seconds, "--rate", "250"]
    say(f"profiling {name} for {seconds}s")
    subprocess.Popen(
        [py_spy, *args, "--format", "raw", "-o", str(out / f"{name}.txt")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return subprocess.Popen(
        [py_spy, *args, "-o", str(out / f"{name}.svg")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def report(database_url: str, bootstrap: str, request_ids: list[str]) -> None:
    """Rebuild each saga's timeline and print the step percentiles."""
    marks: dict[str, dict[Step, float]] = defaultdict(dict)  # booking id → step → seconds
    asked_by: dict[str, str] = {}  # booking id → the request id it answers
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        for service in ("booking", "availability"):
            cursor = await conn.execute(
                f"SELECT originator_id, topic, state FROM {service}.{service}_events"
                " ORDER BY notification_id"
            )
            for originator_id, topic, state in await cursor.fetchall():
                body = json.loads(bytes(state))
                stored = resolve_topic(topic)
                at = _seconds(body.get("timestamp", {}))
                key = str(originator_id) if service == "booking" else body.get("hold_key")
                if stored is Hold.Placed:
                    _hold_keys[str(originator_id)] = key or ""
                elif service == "availability":
                    key = _hold_keys.get(str(originator_id))
                if key and at is not None:
                    marks[key].setdefault(stored, at)
                if stored is Booking.Requested:  # version 2: inside "request"
                    asked = body.get("request") or body
                    asked_by[str(originator_id)] = str(asked.get("request_id"))
    requested_at: dict[str, float] = {}  # request id → its record's time on Kafka
    consumer = AIOKafkaConsumer(
        BOOKING_REQUESTS,
        AVAILABILITY_COMMANDS,
        AVAILABILITY_EVENTS,
        BOOKING_EVENTS,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        group_id=None,
    )
    await consumer.start()
    try:
        idle = 0
        while idle < 3:
            batch = await consumer.getmany(timeout_ms=500)
            idle = 0 if batch else idle + 1
            for records in batch.values():
                for record in records:
                    try:
                        message: Any = parse_message(record.topic, record.value or b"")
                    except ContractViolation:
                        continue  # not a saga's message: nothing to time
                    if isinstance(message, BookingRequested):
                        requested_at.setdefault(message.request_id, record.timestamp / 1e3)
                        continue
                    key = getattr(message, "hold_id", None) or getattr(message, "booking_id", None)
                    if key:
                        marks[key].setdefault(type(message), record.timestamp / 1e3)
    finally:
        await consumer.stop()
    measured = set(request_ids)  # not the warm-up's
    wanted = {m for m in marks if BookingConfirmed in marks[m] and asked_by.get(m) in measured}
    for m in wanted:
        asked = requested_at.get(asked_by.get(m, ""))
        if asked is not None:
            marks[m][BookingRequested] = asked
    sagas = [marks[m] for m in wanted if Booking.Requested in marks[m]]
    say(f"{len(sagas)} sagas confirmed of {len(request_ids)} sent")
    for start, end, name in STEPS:
        values = [(s[end] - s[start]) * 1000 for s in sagas if start in s and end in s]
        if values:
            figure(f"{name}_p50", f"{percentile(values, 0.5):.1f} ms")
            figure(f"{name}_p99", f"{percentile(values, 0.99):.1f} ms")
    figure("load_average_1m", f"{os.getloadavg()[0]:.2f}")


_hold_keys: dict[str, str] = {}


def _seconds(stamp: object) -> float | None:
    """eventsourcing stores datetimes as ISO text inside a typed dict."""
    from datetime import datetime

    text = stamp.get("_data_") if isinstance(stamp, dict) else stamp
    if not isinstance(text, str):
        return None
    return datetime.fromisoformat(text).timestamp()


if __name__ == "__main__":
    _ = ATHENS
    asyncio.run(main())
