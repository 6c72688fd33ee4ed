"""Benchmark the notifier: reminder firing skew and text-back dispatch latency.

``reminder_fire_skew_p99``: 10,000 reminder rows (as ``BookingConfirmed`` schedules
them) fall due within the same minute; skew = the provider accepting the SMS − its
due time (``_max``: the last one; the target is that all go within 60 s).
``textback_behind_burst_p99``: text-backs published while that burst is being sent
(20, 2/s, from its first due time) → the provider accepting them; the prompt lane keeps
them from waiting behind the reminders. ``textback_dispatch_p99``: ``TextBackRequested``
published to the broker → the provider accepting the text (200 requests, 10/s). The
notifier runs as its own process with default dispatch settings; the provider is the
Twilio-compatible simulator in this process. Embedded PostgreSQL and Tansu unless
``SLOTLINE_DATABASE_URL`` / ``SLOTLINE_KAFKA_BOOTSTRAP`` are set.

``notifier_cpu_per_confirmation`` / ``notifier_confirmations_per_s``: 2,000
``BookingConfirmed`` published at once (each with a phone, start in three days) → each
one's SMS accepted by the provider: the notifier process's CPU time over that window per
confirmation (consume, card, notice, .ics, two reminders, send), and confirmations done
per second. Run first, on an idle notifier.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import psutil

from slotline.events.kafka import build_broker, ensure_topics
from slotline.events.local.infra import EmbeddedKafka, EmbeddedPostgres, free_port
from slotline.events.settings import ServiceSettings
from slotline.events.store import ensure_schema, postgres_env
from slotline.notifier.application import NotifierApplication
from slotline.notifier.persistence.tables import open_tables
from slotline.notifier.settings import NotifierSettings
from slotline.notifier.simulator import ProviderSimulator, serving
from slotline.notifier.testing import confirmed, queue_reminder_burst, text_back
from slotline.notifier.wiring import config_of

REMINDERS = 10_000
CONFIRMATIONS = 2_000
TEXT_BACKS = 200
TEXT_BACKS_DURING_BURST = 20
TEXT_BACK_RATE = 10.0  # per second

# Numbers whose zone is awake at some hour of the UTC day (quiet hours apply to texts).
# Each with room for every number a run uses: the reminders', then text-backs past 10,000.
# (New York was +1212555 with 4 digits: its text-backs had no valid number, so the run
# failed whenever Athens was outside 09:00-19:00.)
_DAYTIME = (
    ("+3069", "Europe/Athens", 8),
    ("+12127", "America/New_York", 6),
    ("+81901", "Asia/Tokyo", 7),  # 090-1…: a valid mobile (090-0… is not)
)


def awake_prefix(now: datetime) -> tuple[str, int]:
    for prefix, zone, digits in _DAYTIME:
        if 9 <= now.astimezone(ZoneInfo(zone)).hour < 19:
            return prefix, digits
    raise RuntimeError("no sample zone is in its sending window now")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * share) - 1)]


def seed_reminders(app: NotifierApplication, first_due: datetime) -> dict[str, datetime]:
    """10,000 bookings' 24 h reminders due within one minute; returns due time per key."""
    prefix, digits = awake_prefix(first_due)
    due = [
        (f"{prefix}{i:0{digits}d}", first_due + timedelta(milliseconds=i * 60_000 // REMINDERS))
        for i in range(REMINDERS)
    ]
    return queue_reminder_burst(app, "bench", due)


def start_notifier(
    database_url: str, bootstrap: str, provider: ProviderSimulator, url: str
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {
        **os.environ,
        "SLOTLINE_DATABASE_URL": database_url,
        "SLOTLINE_KAFKA_BOOTSTRAP": bootstrap,
        "SLOTLINE_HTTP_PORT": str(port),
        "SLOTLINE_PROVIDER_URL": url,
        "SLOTLINE_PROVIDER_ACCOUNT_SID": provider.account_sid,
        "SLOTLINE_PROVIDER_AUTH_TOKEN": provider.auth_token,
        "SLOTLINE_LOG_LEVEL": "WARNING",
        # the SMS-pumping guard's hourly tenant limit (3,000) would refuse the burst:
        # this measures dispatch, not the guard (tested in the notifier's own tests)
        "SLOTLINE_TEXT_LIMIT_PER_TENANT": "100000/hour",
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen([sys.executable, "-m", "slotline.notifier"], env=env)
    return process, port


async def wait_ready(port: int, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError("the notifier did not become ready")


async def until(condition: object, timeout: float) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not done after {timeout}s")
        await asyncio.sleep(0.1)


async def measure_reminders(
    app: NotifierApplication, provider: ProviderSimulator, text_backs: TextBacks
) -> None:
    first_due = datetime.now(UTC) + timedelta(seconds=15)
    due = await asyncio.to_thread(seed_reminders, app, first_due)
    await asyncio.sleep(max(0.0, (first_due - datetime.now(UTC)).total_seconds()))
    during = await text_backs.latencies(TEXT_BACKS_DURING_BURST, rate=2.0)
    await until(lambda: sum(m["key"] in due for m in provider.accepted) >= REMINDERS, timeout=600)
    skews = [
        (m["at"] - due[m["key"]].timestamp()) * 1000 for m in provider.accepted if m["key"] in due
    ]
    print(f"reminder_fire_skew_p50: {percentile(skews, 0.5):.0f} ms")
    print(f"reminder_fire_skew_p99: {percentile(skews, 0.99):.0f} ms")
    print(f"reminder_fire_skew_max: {max(skews):.0f} ms")
    print(f"textback_behind_burst_p99: {percentile(during, 0.99):.0f} ms")


class TextBacks:
    """Publishes ``TextBackRequested`` like call-intake and times the provider's answer."""

    def __init__(self, bootstrap: str, provider: ProviderSimulator) -> None:
        self.broker = build_broker(ServiceSettings(service_name="bench", kafka_bootstrap=bootstrap))
        self.provider = provider
        self.sent = 0

    async def latencies(self, count: int, rate: float = TEXT_BACK_RATE) -> list[float]:
        """Latencies (ms) of ``count`` text-backs published at ``rate`` per second."""
        published: dict[str, float] = {}
        prefix, digits = awake_prefix(datetime.now(UTC))
        for _ in range(count):
            self.sent += 1
            phone = f"{prefix}{REMINDERS + self.sent:0{digits}d}"
            request = text_back("bench", phone, business_name="Bench Clinic")
            published[f"textback:{request.call_id}/sms"] = time.time()
            await self.broker.publish(
                request.to_json(), topic=request.TOPIC, key=request.call_id.encode()
            )
            await asyncio.sleep(1 / rate)

        def accepted() -> dict[str, float]:
            return {m["key"]: m["at"] for m in self.provider.accepted if m["key"] in published}

        await until(lambda: len(accepted()) == len(published), timeout=300)
        times = accepted()
        return [(times[k] - at) * 1000 for k, at in published.items()]


async def measure_confirmations(bootstrap: str, provider: ProviderSimulator, pid: int) -> None:
    """CPU per booking confirmation: consumed in batches, queued, sent."""
    prefix, digits = awake_prefix(datetime.now(UTC))
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    events = [
        confirmed("bench-confirmations", start, email=None, phone=f"{prefix}{i:0{digits}d}")
        for i in range(CONFIRMATIONS)
    ]
    wanted = {f"{e.booking_id}:confirmed" for e in events}
    broker = build_broker(ServiceSettings(service_name="bench", kafka_bootstrap=bootstrap))
    await broker.start()
    notifier = psutil.Process(pid)
    cpu = notifier.cpu_times()
    began = time.monotonic()
    try:
        for event in events:
            await broker.publish(event.to_json(), topic=event.TOPIC, key=event.booking_id.encode())
    finally:
        await broker.stop()

    def done() -> int:
        return sum(str(m["key"]).rsplit(":", 1)[0] in wanted for m in provider.accepted)

    await until(lambda: done() >= CONFIRMATIONS, timeout=600)
    seconds = time.monotonic() - began
    used = notifier.cpu_times()
    spent = (used.user - cpu.user) + (used.system - cpu.system)
    print(f"notifier_cpu_per_confirmation: {spent * 1000 / CONFIRMATIONS:.2f} ms")
    print(f"notifier_confirmations_per_s: {CONFIRMATIONS / seconds:.1f} /s")


async def measure_text_backs(text_backs: TextBacks) -> None:
    # Right after the burst the notifier is still consuming its own 10,000 outcome
    # events on notifications.events.v1, where text-back requests also arrive.
    during = await text_backs.latencies(TEXT_BACKS // 4)
    print(f"textback_dispatch_after_burst_p99: {percentile(during, 0.99):.0f} ms")
    probe_deadline = time.monotonic() + 300
    while time.monotonic() < probe_deadline:  # until that backlog is consumed
        if max(await text_backs.latencies(5)) < 1000:
            break
    steady = await text_backs.latencies(TEXT_BACKS)
    print(f"textback_dispatch_p50: {percentile(steady, 0.5):.0f} ms")
    print(f"textback_dispatch_p99: {percentile(steady, 0.99):.0f} ms")


async def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="slotline-bench-"))
    postgres = kafka = None
    database_url = os.environ.get("SLOTLINE_DATABASE_URL")
    if not database_url:
        postgres = EmbeddedPostgres(tmp / "pg").start()
        database_url = postgres.create_database("bench")
    bootstrap = os.environ.get("SLOTLINE_KAFKA_BOOTSTRAP")
    if not bootstrap:
        kafka = EmbeddedKafka().start()
        bootstrap = kafka.bootstrap
    provider = ProviderSimulator()
    process = None
    try:
        await ensure_topics(bootstrap)
        settings = NotifierSettings(database_url=database_url, kafka_bootstrap=bootstrap)
        ensure_schema(database_url, settings.schema_name)
        app = NotifierApplication(
            env=postgres_env(database_url, settings.schema_name), config=config_of(settings)
        )
        open_tables(app)
        async with serving(provider, free_port()) as url:
            process, port = start_notifier(database_url, bootstrap, provider, url)
            await wait_ready(port)
            await measure_confirmations(bootstrap, provider, process.pid)
            text_backs = TextBacks(bootstrap, provider)
            await text_backs.broker.start()
            try:
                await measure_reminders(app, provider, text_backs)
                await measure_text_backs(text_backs)
            finally:
                await text_backs.broker.stop()
        app.close()
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
        if kafka:
            kafka.stop()
        if postgres:
            postgres.stop()


if __name__ == "__main__":
    asyncio.run(main())
