"""SIGTERM, as Kubernetes sends it on a rollout or a scale-down, mid-load: the service
stops consuming, finishes what it started, exits within the termination grace period,
and its successor carries on without losing or doubling a single command.

The service runs as a real process (``python -m slotline.availability``) configured
only by ``SLOTLINE_*`` environment variables, as in its container.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from pathlib import Path
from time import monotonic
from typing import Any
from zoneinfo import ZoneInfo

import anyio
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from slotline.availability import demo
from slotline.availability.application import AvailabilityApplication
from slotline.availability.testing import place_hold
from slotline.events.contract import availability_commands as commands
from slotline.events.contract.availability import HoldPlaced, HoldRejected
from slotline.events.contract.registry import parse_message
from slotline.events.kafka import build_broker
from slotline.events.local.infra import free_port
from slotline.events.settings import ServiceSettings
from slotline.events.store import ensure_schema, postgres_env
from slotline.events.testing.reading import eventually, read_topic
from slotline.events.topics import AVAILABILITY_COMMANDS, AVAILABILITY_EVENTS, dead_letter_topic

pytestmark = pytest.mark.e2e

HOLDS = 400
SEND_RATE = 200  # holds/s: the first process is still busy when SIGTERM comes
# deploy/k8s: terminationGracePeriodSeconds 30 > SLOTLINE_GRACEFUL_TIMEOUT_SECONDS 20.
TERMINATION_GRACE_SECONDS = 30
GRACEFUL_TIMEOUT_SECONDS = 20
ATHENS = ZoneInfo("Europe/Athens")
# Eight 60-minute massages (+15 min buffer) a day, back to back, two at a time (the demo
# clinic has two rooms): 400 holds over 25 days, no refusals.
STARTS = tuple(time(9 + n * 75 // 60, n * 75 % 60) for n in range(8))


@pytest.fixture
def store(database_url: str) -> Iterator[AvailabilityApplication]:
    """The service's store, opened beside it to set up a clinic and inspect the outcome."""
    ensure_schema(database_url, "availability")
    application = AvailabilityApplication(env=postgres_env(database_url, "availability"))
    yield application
    application.close()


@contextmanager
def service_process(database_url: str, bootstrap: str, log: Path) -> Iterator[ServiceProcess]:
    port = free_port()
    env = {
        **os.environ,
        "SLOTLINE_DATABASE_URL": database_url,
        "SLOTLINE_KAFKA_BOOTSTRAP": bootstrap,
        "SLOTLINE_HTTP_PORT": str(port),
        "SLOTLINE_GRACEFUL_TIMEOUT_SECONDS": str(GRACEFUL_TIMEOUT_SECONDS),
        "SLOTLINE_RELAY_IDLE_POLL_SECONDS": "0.2",
        "SLOTLINE_LOG_JSON": "true",
    }
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "slotline.availability"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield ServiceProcess(process, f"http://127.0.0.1:{port}", log)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


class ServiceProcess:
    def __init__(self, process: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.process = process
        self.url = url
        self.log = log

    def last_words(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    async def ready(self) -> bool:
        assert self.process.poll() is None, f"the service process died:\n{self.last_words()}"
        try:
            async with httpx.AsyncClient(base_url=self.url, timeout=5) as client:
                return (await client.get("/readyz")).status_code == 200
        except httpx.TransportError:
            return False

    async def applied(self) -> int:
        """Hold commands this process applied, from its ``/metrics``."""
        async with httpx.AsyncClient(base_url=self.url, timeout=5) as client:
            text = (await client.get("/metrics")).text
        return sum(
            int(sample.value)
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "slotline_inbox_processed_total"
            and sample.labels.get("topic") == AVAILABILITY_COMMANDS
        )


def place(clinic: demo.Clinic, hold: str, start: datetime) -> commands.PlaceHold:
    return place_hold(clinic, hold, start)


async def send(bootstrap: str, messages: list[commands.PlaceHold]) -> None:
    """Publish at ``SEND_RATE``, as a steady load would arrive."""
    broker = build_broker(ServiceSettings(kafka_bootstrap=bootstrap))
    await broker.start()
    try:
        for n, message in enumerate(messages):
            await broker.publish(
                message.to_json(), topic=AVAILABILITY_COMMANDS, key=message.aggregate_id.encode()
            )
            if n % 20 == 19:
                await asyncio.sleep(20 / SEND_RATE)
    finally:
        await broker.stop()


async def records(bootstrap: str, topic: str, tenant: str) -> list[dict[str, Any]]:
    found = await read_topic(bootstrap, topic, expected=1, timeout=5, settle_seconds=1.5)
    decoded = [json.loads(r.value or b"{}") for r in found]
    return [m for m in decoded if tenant in json.dumps(m)]


async def hold_outcomes(bootstrap: str, tenant: str) -> list[HoldPlaced | HoldRejected]:
    """Every hold outcome published for ``tenant``, parsed by the contract."""
    found = await read_topic(
        bootstrap, AVAILABILITY_EVENTS, expected=1, timeout=5, settle_seconds=1.5
    )
    messages = [parse_message(AVAILABILITY_EVENTS, r.value or b"") for r in found]
    return [
        m for m in messages if isinstance(m, HoldPlaced | HoldRejected) and m.tenant_id == tenant
    ]


class TestSigtermMidLoad:
    async def test_the_process_drains_exits_in_time_and_its_successor_loses_and_doubles_nothing(
        self,
        store: AvailabilityApplication,
        database_url: str,
        kafka_bootstrap: str,
        tmp_path: Path,
    ) -> None:
        tenant = f"shutdown-{uuid.uuid4()}"
        clinic = await anyio.to_thread.run_sync(
            lambda: demo.open_clinic(store, tenant, horizon=timedelta(days=30))
        )
        first_day = (datetime.now(ATHENS) + timedelta(days=2)).date()
        starts = [
            datetime.combine(first_day + timedelta(days=n // 16), STARTS[n // 2 % 8], ATHENS)
            for n in range(HOLDS)
        ]
        holds = [f"hold-{n}" for n in range(HOLDS)]
        messages = [place(clinic, h, s) for h, s in zip(holds, starts, strict=True)]
        log = tmp_path / "availability.log"

        with service_process(database_url, kafka_bootstrap, log) as first:
            await eventually(first.ready, timeout=60)
            sending = asyncio.create_task(send(kafka_bootstrap, messages))
            await eventually(lambda: _at_least(first.applied(), 5), timeout=60, interval=0.05)

            first.process.send_signal(signal.SIGTERM)
            signalled = monotonic()
            exit_code = await anyio.to_thread.run_sync(
                lambda: first.process.wait(TERMINATION_GRACE_SECONDS)
            )
            took = monotonic() - signalled
            await sending

        # uvicorn re-raises the signal once shut down, so a clean stop ends "killed by SIGTERM".
        assert exit_code in {0, -signal.SIGTERM}, log.read_text()[-3000:]
        lines = [json.loads(line) for line in log.read_text().splitlines() if line[:1] == "{"]
        assert any(entry.get("event") == "service stopped" for entry in lines)
        assert [e for e in lines if e.get("level") in {"error", "critical"}] == []
        print(f"exited {took:.1f}s after SIGTERM (grace period {TERMINATION_GRACE_SECONDS}s)")

        with service_process(database_url, kafka_bootstrap, log) as second:
            await eventually(second.ready, timeout=60)
            outcomes: list[HoldPlaced | HoldRejected] = []

            async def every_hold_answered() -> bool:
                nonlocal outcomes
                outcomes = await hold_outcomes(kafka_bootstrap, tenant)
                return {m.hold_id for m in outcomes} == set(holds)

            try:
                await eventually(every_hold_answered, timeout=120, interval=0.5)
            except AssertionError:
                missing = set(holds) - {m.hold_id for m in outcomes}
                pytest.fail(f"{len(missing)} holds unanswered:\n{second.last_words()}")
            taken_over = await second.applied()
            dead = await records(kafka_bootstrap, dead_letter_topic(AVAILABILITY_COMMANDS), tenant)

        assert taken_over > 0, "the first process finished the load before SIGTERM: no test"
        assert Counter(m.hold_id for m in outcomes) == Counter(holds)  # once each
        assert {type(m) for m in outcomes} == {HoldPlaced}
        assert dead == []  # no command was cut off half-done and given up on
        for hold in holds:
            stored = await anyio.to_thread.run_sync(store.tenant_hold, tenant, hold)
            assert stored.version == 1  # placed once: no effect applied twice


async def _at_least(count: Awaitable[int], expected: int) -> bool:
    return await count >= expected
