"""Benchmark outbound webhooks: a booking event committed to its topic → a healthy
receiver has the signed delivery.

``webhook_delivery_p99`` (and p50): ``BENCH_WEBHOOK_EVENTS`` ``BookingConfirmed`` events
(default 300) published at ``BENCH_WEBHOOK_RATE`` per second (default 20), as booking's
relay publishes them, for a tenant with one subscription; the time from the broker
acknowledging the event to the receiver (a real HTTP server in this process that
verifies every signature with ``standardwebhooks``) getting its delivery. The notifier
runs as its own process with default webhook settings, except that the receiver's local
address is allowed (``SLOTLINE_WEBHOOK_ALLOW_PRIVATE_ADDRESSES``). Embedded PostgreSQL and
Tansu unless ``SLOTLINE_DATABASE_URL`` / ``SLOTLINE_KAFKA_BOOTSTRAP`` are set.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support import ServiceProcess, figure, infrastructure, percentile, say

from slotline.events.contract.booking import BookingConfirmed
from slotline.events.kafka import build_broker
from slotline.events.settings import ServiceSettings
from slotline.events.testing.service import bearer
from slotline.notifier.domain.webhooks import delivery_id
from slotline.notifier.testing import (
    START_OF_TESTS,
    WebhookReceiver,
    confirmed,
    new_tenant,
    receiving,
)

EVENTS = int(os.environ.get("BENCH_WEBHOOK_EVENTS", "300"))
RATE = float(os.environ.get("BENCH_WEBHOOK_RATE", "20"))


async def main() -> None:
    async with infrastructure("webhooks") as (database_url, bootstrap, tmp):
        hooks = WebhookReceiver()
        async with receiving(hooks) as url:
            notifier = ServiceProcess(
                "slotline.notifier",
                database_url,
                bootstrap,
                tmp / "notifier.log",
                env={"SLOTLINE_WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "true"},
            )
            notifier.launch()
            try:
                await notifier.wait_ready()
                await measure(notifier, hooks, url, bootstrap)
            finally:
                notifier.stop()
                for line in notifier.log_summary()[:10]:
                    say(line)


async def measure(
    notifier: ServiceProcess, hooks: WebhookReceiver, url: str, bootstrap: str
) -> None:
    tenant = new_tenant()
    async with httpx.AsyncClient(base_url=notifier.base_url, timeout=10) as client:
        made = await client.post(
            "/webhooks/subscriptions",
            json={"url": f"{url}/bench", "event_types": [BookingConfirmed.EVENT_TYPE]},
            headers=bearer("owner", tenant),
        )
        made.raise_for_status()
    subscription = made.json()["subscription_id"]
    hooks.secrets["bench"] = [made.json()["secret"]]
    broker = build_broker(ServiceSettings(service_name="bench", kafka_bootstrap=bootstrap))
    await broker.start()
    committed: dict[str, float] = {}
    try:
        say(f"publishing {EVENTS} BookingConfirmed at {RATE:g}/s")
        started = time.perf_counter()
        for n in range(EVENTS):
            await asyncio.sleep(max(0.0, started + n / RATE - time.perf_counter()))
            event = confirmed(tenant, START_OF_TESTS + timedelta(days=3))
            await broker.publish(
                event.to_json(), topic=event.TOPIC, key=event.aggregate_id.encode()
            )
            committed[delivery_id(str(event.event_id), subscription)] = time.time()
        deadline = time.monotonic() + 60
        while len(hooks.ids("bench")) < EVENTS and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
    finally:
        await broker.stop()
    arrived: dict[str, float] = {}
    for received in hooks.of("bench"):
        arrived.setdefault(received.webhook_id, received.at)
    latencies = [(arrived[i] - t) * 1000 for i, t in committed.items() if i in arrived]
    unverified = sum(1 for r in hooks.of("bench") if not r.verified)
    say(f"{len(latencies)} of {EVENTS} delivered, {unverified} not verified")
    if not latencies:
        raise SystemExit("no delivery arrived; see the notifier's log above")
    figure("webhook_delivery_p50", f"{percentile(latencies, 0.50):.0f} ms")
    figure("webhook_delivery_p99", f"{percentile(latencies, 0.99):.0f} ms")


if __name__ == "__main__":
    asyncio.run(main())
