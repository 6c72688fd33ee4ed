"""Benchmark call-intake on the local stack, with the notifier and a local SMS provider.

call-intake and the notifier run as their own processes (``python -m slotline.…``); the
notifier sends through the Twilio-compatible provider simulator served by this process,
which stamps each message when it accepts it. Prints one ``name: value unit`` line per
figure:

- ``missed_call_to_textback_p99`` (and p50) — 300 missed calls from distinct mobile
  numbers, 10 a second: the Dial ``no-answer`` webhook sent → the text-back accepted by
  the local SMS provider (call-intake → Kafka → notifier → provider).
- ``missed_call_to_textback_request_p99`` — the same calls, webhook sent →
  ``TextBackRequested`` read from Kafka by this process (call-intake's own share).
- ``webhook_throughput`` — 3,000 signed Twilio webhooks (1,000 calls × incoming, Dial
  outcome ``completed``, status ``completed``) from 32 concurrent clients.

Uses embedded PostgreSQL and Tansu unless ``SLOTLINE_DATABASE_URL`` /
``SLOTLINE_KAFKA_BOOTSTRAP`` are set. Details and the services' logs go to stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from support import (
    LIMITS_OUT_OF_THE_WAY,
    ServiceProcess,
    figure,
    infrastructure,
    percentile,
    say,
)

from slotline.call_intake.domain.call import Call
from slotline.events.contract.notifications import TextBackRequested
from slotline.events.contract.registry import parse_message
from slotline.events.local.infra import free_port
from slotline.events.testing.service import bearer
from slotline.events.topics import NOTIFICATIONS_EVENTS
from slotline.events.twilio_signature import twilio_signature
from slotline.notifier.simulator import ProviderSimulator, serving

AUTH_TOKEN = "bench-twilio-auth-token"
LINE = "+302100000001"
MISSED_CALLS = 300
MISSED_PER_SECOND = 10
THROUGHPUT_CALLS = 1000
CLIENTS = 32


@dataclass
class Twilio:
    """Signed Twilio-shaped webhooks to one tenant's routes."""

    client: httpx.AsyncClient
    base_url: str
    tenant_id: str

    async def post(self, path: str, params: dict[str, str]) -> httpx.Response:
        url = f"{self.base_url}/v1/telephony/{self.tenant_id}{path}"
        signature = twilio_signature(AUTH_TOKEN, url, params.items())
        response = await self.client.post(
            url, data=params, headers={"X-Twilio-Signature": signature}
        )
        if response.status_code >= 300:
            raise RuntimeError(f"{path}: {response.status_code} {response.text[:200]}")
        return response


def plan() -> dict[str, Any]:
    return {
        "business_name": "Bench Dental",
        "time_zone": "Europe/Athens",
        "hours": [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(7)],
        "teams": [
            {"team_id": "desk", "members": [{"staff_id": "maria", "phone": "+302100000011"}]}
        ],
        "lines": [{"number": LINE, "team_id": "desk"}],
        "booking_url": "https://book.example.com/bench",
        "voicemail": True,
    }


def mobile(n: int) -> str:
    return f"+3069{n:08d}"


class TextBackRequests:
    """Reads ``TextBackRequested`` from Kafka, stamping when each call id arrives."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.seen: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.consumer = AIOKafkaConsumer(
            NOTIFICATIONS_EVENTS,
            bootstrap_servers=self.bootstrap,
            group_id=None,
            auto_offset_reset="latest",
            fetch_max_wait_ms=10,
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
                    message = parse_message(record.topic, record.value or b"")
                    if isinstance(message, TextBackRequested):
                        self.seen.setdefault(message.call_id, now)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.consumer.stop()


async def text_back_latency(
    intake: ServiceProcess, simulator: ProviderSimulator | None, requests: TextBackRequests
) -> None:
    tenant = f"bench-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=50)) as client:
        put = await client.put(
            f"{intake.base_url}/v1/call-plan", json=plan(), headers=bearer("manager", tenant)
        )
        put.raise_for_status()
        twilio = Twilio(client, intake.base_url, tenant)
        sent: dict[str, tuple[str, float]] = {}  # call id → (caller, webhook sent at)

        async def miss(n: int) -> None:
            call_sid = f"CA{uuid.uuid4().hex}"
            caller = mobile(n)
            await twilio.post("/voice", {"CallSid": call_sid, "From": caller, "To": LINE})
            call_id = str(Call.create_id(tenant, call_sid))
            sent[call_id] = (caller, time.time())
            await twilio.post("/dial?step=0", {"CallSid": call_sid, "DialCallStatus": "no-answer"})

        calls = []
        for n in range(MISSED_CALLS):
            calls.append(asyncio.create_task(miss(n)))
            await asyncio.sleep(1 / MISSED_PER_SECOND)
        await asyncio.gather(*calls)
        deadline = time.monotonic() + 60

        def delivered() -> int:
            if simulator is None:
                return len([c for c in sent if c in requests.seen])
            return len({m["To"] for m in simulator.accepted} & {c for c, _ in sent.values()})

        while delivered() < len(sent) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
    request_ms = [
        (requests.seen[c] - at) * 1000 for c, (_, at) in sent.items() if c in requests.seen
    ]
    say(f"text-back requests seen on Kafka: {len(request_ms)}/{len(sent)}")
    if request_ms:
        figure("missed_call_to_textback_request_p50", f"{percentile(request_ms, 0.5):.0f} ms")
        figure("missed_call_to_textback_request_p99", f"{percentile(request_ms, 0.99):.0f} ms")
    if simulator is None:
        return
    accepted_at: dict[str, float] = {}
    for message in simulator.accepted:
        accepted_at.setdefault(message["To"].removeprefix("whatsapp:"), message["at"])
    sms_ms = [
        (accepted_at[caller] - at) * 1000 for caller, at in sent.values() if caller in accepted_at
    ]
    say(f"text-backs accepted by the local SMS provider: {len(sms_ms)}/{len(sent)}")
    if len(sms_ms) < len(sent):
        raise RuntimeError(f"only {len(sms_ms)} of {len(sent)} text-backs reached the provider")
    figure("missed_call_to_textback_p50", f"{percentile(sms_ms, 0.5):.0f} ms")
    figure("missed_call_to_textback_p99", f"{percentile(sms_ms, 0.99):.0f} ms")


async def webhook_throughput(intake: ServiceProcess) -> None:
    tenant = f"bench-{uuid.uuid4().hex[:8]}"
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        put = await client.put(
            f"{intake.base_url}/v1/call-plan", json=plan(), headers=bearer("manager", tenant)
        )
        put.raise_for_status()
        twilio = Twilio(client, intake.base_url, tenant)
        queue: asyncio.Queue[int] = asyncio.Queue()
        for n in range(THROUGHPUT_CALLS):
            queue.put_nowait(n)
        requests = 0

        async def worker() -> None:
            nonlocal requests
            while not queue.empty():
                n = queue.get_nowait()
                call_sid = f"CA{uuid.uuid4().hex}"
                await twilio.post(
                    "/voice", {"CallSid": call_sid, "From": mobile(50_000_000 + n), "To": LINE}
                )
                await twilio.post(
                    "/dial?step=0", {"CallSid": call_sid, "DialCallStatus": "completed"}
                )
                await twilio.post(
                    "/status",
                    {
                        "CallSid": call_sid,
                        "CallStatus": "completed",
                        "SequenceNumber": "3",
                        "CallDuration": "42",
                    },
                )
                requests += 3

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CLIENTS)))
        elapsed = time.perf_counter() - began
    say(f"{requests} webhooks in {elapsed:.1f}s")
    figure("webhook_throughput", f"{requests / elapsed:.0f} req/s")


async def main() -> int:
    main_task = asyncio.current_task()
    assert main_task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    services: list[ServiceProcess] = []
    failed = False
    began = time.monotonic()
    simulator = ProviderSimulator(account_sid="AC_bench", auth_token="bench-provider-token")
    try:
        async with (
            infrastructure("call_intake") as (database_url, bootstrap, tmp),
            serving(simulator, free_port()) as provider_url,
        ):
            notifier = ServiceProcess(
                "slotline.notifier",
                database_url,
                bootstrap,
                tmp / "notifier.log",
                env={
                    "SLOTLINE_PROVIDER_URL": provider_url,
                    "SLOTLINE_PROVIDER_ACCOUNT_SID": simulator.account_sid,
                    "SLOTLINE_PROVIDER_AUTH_TOKEN": simulator.auth_token,
                },
            )
            intake = ServiceProcess(
                "slotline.call_intake",
                database_url,
                bootstrap,
                tmp / "call-intake.log",
                env={"SLOTLINE_TWILIO_AUTH_TOKEN": AUTH_TOKEN, **LIMITS_OUT_OF_THE_WAY},
            )
            services = [notifier, intake]
            try:
                for service in services:
                    service.launch()
                for service in services:
                    await service.wait_ready()
                say(f"services ready after {time.monotonic() - began:.1f}s")
                requests = TextBackRequests(bootstrap)
                await requests.start()
                await asyncio.sleep(6)  # let both consumer groups finish joining
                phases: list[tuple[str, Callable[[], Awaitable[object]]]] = [
                    ("text-back latency", lambda: text_back_latency(intake, simulator, requests)),
                    ("webhook throughput", lambda: webhook_throughput(intake)),
                ]
                try:
                    for name, phase in phases:
                        phase_began = time.monotonic()
                        try:
                            await phase()
                        except Exception as error:  # report, go on with the next figure
                            failed = True
                            say(f"{name}: FAILED {error!r}")
                        say(f"{name}: {time.monotonic() - phase_began:.0f}s")
                finally:
                    await requests.stop()
            finally:
                for service in services:
                    summary = service.log_summary()[:10]
                    if summary:
                        say(f"{service.module} logged:")
                        for line in summary:
                            say(f"  {line}")
                    service.stop()
    except BaseException:
        failed = True
        raise
    finally:
        say(f"total {time.monotonic() - began:.0f}s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
