"""Killing the booking service mid-saga (SIGKILL, no goodbye) and starting it again:
every saga completes or is compensated, no hold is left behind, none is placed twice.

Booking runs as a real process (``python -m slotline.booking``) on its own database
and broker; availability runs in this process beside it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import UUID, uuid4

import anyio
import psycopg
import pytest

from slotline.availability.application import AvailabilityApplication
from slotline.availability.demo import open_clinic
from slotline.availability.domain.hold import HoldStatus
from slotline.availability.settings import AvailabilitySettings
from slotline.availability.wiring import service_spec as availability_spec
from slotline.events.contract.availability_commands import PlaceHold
from slotline.events.contract.booking import (
    BookingConfirmed,
    BookingEvent,
    BookingExpired,
    BookingRejected,
)
from slotline.events.contract.booking_requests import BookingRequested
from slotline.events.contract.common import Channel, Contact
from slotline.events.envelope import Message
from slotline.events.local.infra import free_port
from slotline.events.testing.reading import eventually
from slotline.events.testing.recorder import TopicRecorder
from slotline.events.testing.service import RunningService, running
from slotline.events.topics import AVAILABILITY_COMMANDS, BOOKING_EVENTS, BOOKING_REQUESTS

from .conftest import future_start

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

REQUESTS = 40
SETTLED = (BookingConfirmed, BookingRejected, BookingExpired)


@contextmanager
def booking_process(
    database_url: str, bootstrap: str, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "SLOTLINE_DATABASE_URL": database_url,
        "SLOTLINE_KAFKA_BOOTSTRAP": bootstrap,
        "SLOTLINE_HTTP_PORT": str(free_port()),
        "SLOTLINE_RELAY_IDLE_POLL_SECONDS": "0.2",
        "SLOTLINE_TIMEOUT_INTERVAL_SECONDS": "0.5",
        "SLOTLINE_LOG_JSON": "true",
    }
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "slotline.booking"], env=env, stdout=output, stderr=output
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


@pytest.fixture(scope="module")
async def availability(
    module_database_url: str, module_kafka_bootstrap: str
) -> AsyncIterator[RunningService]:
    settings = AvailabilitySettings(
        database_url=module_database_url,
        kafka_bootstrap=module_kafka_bootstrap,
        http_port=free_port(),
        relay_idle_poll_seconds=0.2,
        expiry_interval_seconds=0.2,
    )
    async with running(availability_spec(settings)) as service:
        yield service


async def test_a_killed_booking_service_finishes_every_saga_after_restart(
    availability: RunningService,
    module_database_url: str,
    module_kafka_bootstrap: str,
    tmp_path: Path,
) -> None:
    holds = availability.runtime.application
    assert isinstance(holds, AvailabilityApplication)
    tenant = f"crash-{uuid4().hex[:6]}"
    clinic = await anyio.to_thread.run_sync(lambda: open_clinic(holds, tenant, staff=3, rooms=3))
    starts = [future_start(days=2 + n // 10, hour=9 + n % 10) for n in range(REQUESTS)]
    requests = [
        BookingRequested(
            tenant_id=tenant,
            aggregate_id=f"r{n}",
            request_id=f"r{n}",
            channel=Channel.PARTNER,
            contact=Contact(name=f"Customer {n}", phone=f"+3069400{n:05d}"),
            service_id=str(clinic.service_id),
            location_id=str(clinic.location_id),
            slot_start=start,
        )
        for n, start in enumerate(starts)
    ]
    log = tmp_path / "booking.log"
    broker = availability.runtime.broker
    assert broker is not None
    async with TopicRecorder(module_kafka_bootstrap, BOOKING_EVENTS, AVAILABILITY_COMMANDS) as seen:
        with booking_process(module_database_url, module_kafka_bootstrap, log) as first:
            # The catalogue reaches booking first, as it would in a running system.
            await eventually(lambda: _knows_service(module_database_url, tenant), timeout=60)
            for request in requests:
                await broker.publish(
                    request.to_json(), topic=BOOKING_REQUESTS, key=request.aggregate_id.encode()
                )
            # Killed as soon as the first hold is asked for: waiting for the first
            # BookingHeld let a fast machine finish all 40 sagas before the kill landed.
            await seen.wait_for(lambda m: isinstance(seen.message_of(m), PlaceHold), timeout=60)
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        progress_at_kill = Counter(type(m) for m in seen.published(Message))
        with booking_process(module_database_url, module_kafka_bootstrap, log):

            def settled() -> int:
                return len(
                    {m.request_id for m in seen.published(BookingEvent) if isinstance(m, SETTLED)}
                )

            await eventually(lambda: settled() == REQUESTS, timeout=120)
            await seen.settle(1.5)

    # The relay publishes at least once: a kill between the broker's acknowledgement and
    # the noted position (recorded at most every 0.1 s under load) sends those batches
    # again, the same events and commands with the same ids (consumers recognise them).
    # What must never happen is a second outcome or a second command: each booking has one
    # settled event, and each hold one command, however often each was sent.
    outcomes: defaultdict[str, set[tuple[type, UUID]]] = defaultdict(set)
    for m in seen.published(BookingEvent):
        if isinstance(m, SETTLED):
            outcomes[m.booking_id].add((type(m), m.event_id))
    kinds = Counter(kind for settled in outcomes.values() for kind, _ in settled)
    assert kinds == {BookingConfirmed: REQUESTS}, (kinds, progress_at_kill)
    assert all(len(settled) == 1 for settled in outcomes.values()), "one outcome each"
    assert progress_at_kill.get(BookingConfirmed, 0) < REQUESTS, "the kill came mid-saga"
    asked: defaultdict[str, set[UUID]] = defaultdict(set)
    for command in seen.published(PlaceHold):
        asked[command.hold_id].add(command.event_id)
    assert len(asked) == REQUESTS
    assert all(len(ids) == 1 for ids in asked.values()), "no hold was asked for twice"
    confirmed = {m.booking_id for m in seen.published(BookingConfirmed)}

    async def no_orphans() -> bool:
        statuses = {
            booking_id: holds.tenant_hold(tenant, booking_id).status
            for booking_id in asked
            if _has_hold(holds, tenant, booking_id)
        }
        held = [b for b, s in statuses.items() if s is HoldStatus.HELD]
        wrong = [b for b in confirmed if statuses.get(b) is not HoldStatus.CONFIRMED]
        return not held and not wrong

    await eventually(no_orphans, timeout=30)


def _knows_service(database_url: str, tenant: str) -> bool:
    try:
        with psycopg.connect(database_url) as connection:
            row = connection.execute(
                "SELECT count(*) FROM booking.catalog_service WHERE tenant_id = %s", (tenant,)
            ).fetchone()
    except psycopg.Error:
        return False  # the service has not made its tables yet
    return bool(row and row[0])


def _has_hold(holds: AvailabilityApplication, tenant: str, key: str) -> bool:
    try:
        holds.tenant_hold(tenant, key)
    except Exception:
        return False
    return True
