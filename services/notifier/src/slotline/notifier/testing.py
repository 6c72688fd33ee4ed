"""Test support for the notifier (tests and benchmarks): a clock, a mail server, builders."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request, Response

from slotline.events.contract import booking as bookings
from slotline.events.contract.common import Channel, Consents, Contact, Money, TimeSlot
from slotline.events.contract.notifications import TextBackRequested
from slotline.events.contract.registry import parse_message
from slotline.events.envelope import Message
from slotline.events.keys import misplaced_keys
from slotline.events.local.infra import free_port
from slotline.events.local.serving import served
from slotline.events.testing.reading import read_topic
from slotline.events.testing.service import RunningService
from slotline.events.topics import NOTIFICATIONS_EVENTS
from slotline.events.wire_sealing import open_record
from slotline.notifier.domain.booking_card import BookingCard
from slotline.notifier.domain.notices import reminder_notices
from slotline.notifier.domain.reminders import PlannedReminder, ReminderKind
from slotline.notifier.persistence import queue
from slotline.notifier.persistence.unit_of_work import unit_of_work
from slotline.notifier.settings import NotifierSettings
from slotline.notifier.simulator import ProviderSimulator

if TYPE_CHECKING:
    from slotline.notifier.application import NotifierApplication

START_OF_TESTS = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # 10:00 in Athens


class TestClock:
    """The notifier's clock, moved by the tests (reminders fire on it, not on sleep)."""

    __test__ = False

    def __init__(self, now: datetime = START_OF_TESTS) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta

    def move_to(self, moment: datetime) -> None:
        """Forward only: other tests' reminders share this clock."""
        self.now = max(self.now, moment)


@dataclass
class MailServer:
    """A real SMTP server (aiosmtpd) keeping what it receives."""

    port: int
    received: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        self.received.append(mail)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.received if m["To"] == address]


def notifier_settings(
    database_url: str,
    bootstrap: str,
    mail_server: MailServer,
    provider: tuple[ProviderSimulator, str],
) -> NotifierSettings:
    simulator, url = provider
    port = free_port()
    return NotifierSettings(
        database_url=database_url,
        kafka_bootstrap=bootstrap,
        http_port=port,
        public_url=f"http://127.0.0.1:{port}",
        smtp_host="127.0.0.1",
        smtp_port=mail_server.port,
        provider_url=url,
        provider_account_sid=simulator.account_sid,
        provider_auth_token=simulator.auth_token,
        dispatch_interval_seconds=0.2,
        relay_idle_poll_seconds=0.2,
        send_attempts=3,
        send_retry_initial_seconds=0.05,
        inbox_retry_initial_seconds=0.01,
        inbox_max_attempts=2,
    )


def new_tenant() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


async def settle(seconds: float = 0.5) -> None:
    await asyncio.sleep(seconds)


async def publish(service: RunningService, message: Message) -> None:
    broker = service.runtime.broker
    assert broker is not None
    await broker.publish(message.to_json(), topic=message.TOPIC, key=message.aggregate_id.encode())


def confirmed(
    tenant: str,
    start: datetime,
    *,
    email: str | None = "ana@example.com",
    phone: str | None = None,
    booking_id: str | None = None,
    transactional: bool = True,
    channel: Channel = Channel.WEB,
    language: str = "en",
    resource_ids: list[str] | None = None,
) -> bookings.BookingConfirmed:
    booking_id = booking_id or f"b-{uuid.uuid4().hex[:8]}"
    return bookings.BookingConfirmed(
        tenant_id=tenant,
        aggregate_id=booking_id,
        sequence=3,
        booking_id=booking_id,
        reference="SLT-7K4Q",
        customer_id="c-1",
        contact=Contact(name="Ana", phone=phone, email=email, language=language),
        consents=Consents(transactional=transactional),
        service_id="svc-1",
        service_name="Massage 60",
        location_id="loc-1",
        location_name="Kolonaki",
        address="Skoufa 10, Athens",
        time_zone="Europe/Athens",
        slot=TimeSlot(start=start, end=start + timedelta(hours=1)),
        resource_ids=resource_ids or ["staff-1"],
        price=Money(amount_minor=4500, currency="EUR"),
        paid=Money(amount_minor=1000, currency="EUR"),
        manage_url=f"https://book.example/{booking_id}",
        channel=channel,
    )


async def notifications_of(
    service: RunningService, tenant: str, kind: type[Message] = Message, settle: float = 0.3
) -> list[dict[str, Any]]:
    """What the notifier has published for ``tenant`` so far (of class ``kind``: records
    parsed by the contract, as a consumer reads them), as the records' JSON."""
    records = await read_topic(
        service.runtime.settings.kafka_bootstrap,
        NOTIFICATIONS_EVENTS,
        expected=1,
        timeout=3,
        settle_seconds=settle,
    )
    mine = [
        (m, r)
        for r in records
        if isinstance(m := parse_message(NOTIFICATIONS_EVENTS, r.value or b""), kind)
        and m.tenant_id == tenant
    ]
    misplaced = misplaced_keys((m, r.key) for m, r in mine)
    assert not misplaced, f"records not keyed as their types document: {misplaced}"
    return [open_record(json.loads(r.value or b"{}")) for _, r in mine]


def greek_mobile() -> str:
    """A valid, unique Greek mobile number (Europe/Athens by its prefix)."""
    return f"+3069{uuid.uuid4().int % 10**8:08d}"


def local_time(clock: TestClock, days: int, hour: int, zone: str = "Europe/Athens") -> datetime:
    """``hour`` o'clock local time, ``days`` after the clock's current local date (UTC)."""
    from zoneinfo import ZoneInfo

    local_zone = ZoneInfo(zone)
    day = clock.now.astimezone(local_zone).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=local_zone).astimezone(UTC)


async def dead_letters_of(service: RunningService, topic: str, tenant: str) -> list[dict[str, Any]]:
    """Dead letters of ``topic`` whose original payload names ``tenant``."""
    from slotline.events.topics import dead_letter_topic

    records = await read_topic(
        service.runtime.settings.kafka_bootstrap,
        dead_letter_topic(topic),
        expected=1,
        timeout=3,
        settle_seconds=0.3,
    )
    letters = [json.loads(r.value or b"{}") for r in records]
    return [d for d in letters if tenant in json.dumps(d)]


async def send_signed(
    service: RunningService, path: str, form: dict[str, str], auth_token: str
) -> int:
    """POST a provider webhook to the notifier, signed like Twilio signs it."""
    from slotline.events.twilio_signature import twilio_signature

    url = f"{service.base_url}{path}"  # the tests' public URL is the service's own
    signature = twilio_signature(auth_token, url, list(form.items()))
    response = await service.client.post(path, data=form, headers={"X-Twilio-Signature": signature})
    return response.status_code


def queue_reminder_burst(
    app: NotifierApplication, tenant: str, due: Sequence[tuple[str, datetime]]
) -> dict[str, datetime]:
    """A burst of 24 h reminders, one booking per ``(phone, due time)``, queued as
    ``BookingConfirmed`` would have queued them; returns each text's provider key
    (``<message key>/sms``) and its due time."""
    kind = ReminderKind.parse("24h")
    keys: dict[str, datetime] = {}
    with unit_of_work(app) as work:
        for i, (phone, at) in enumerate(due):
            start = at + kind.lead
            card = BookingCard(
                tenant_id=tenant,
                booking_id=f"b{i:05d}",
                reference="SLT-BURST",
                customer_name=f"Customer {i}",
                phone=phone,
                email=None,
                language="en",
                transactional_consent=True,
                marketing_consent=False,
                service_name="Massage 60",
                location_name="Kolonaki",
                address=None,
                time_zone="Europe/Athens",
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                resource_ids=("staff-1",),
            )
            planned = PlannedReminder(kind, at, kind.useful_until(start))
            for message in reminder_notices(card, planned):
                queue.enqueue(work, message)
                keys[f"{message.key}/sms"] = at
    return keys


def text_back(tenant: str, to_phone: str, business_name: str = "Kolonaki Spa") -> TextBackRequested:
    """A missed call's text-back request, as call-intake publishes it."""
    call_id = f"call-{uuid.uuid4().hex[:10]}"
    return TextBackRequested(
        tenant_id=tenant,
        aggregate_id=call_id,
        call_id=call_id,
        to_phone=to_phone,
        from_phone="+302101234567",
        business_name=business_name,
        booking_url="https://book.example/kolonaki",
    )


# --- outbound webhooks -----------------------------------------------------------------


def with_webhooks(settings: NotifierSettings) -> NotifierSettings:
    """``settings`` with webhooks as tests (and the benchmark) need them: a local receiver
    allowed, short timeouts and retries, an endpoint paused after 3 failures in a row."""
    return settings.model_copy(
        update={
            "webhook_allow_private_addresses": True,
            "webhook_timeout_seconds": 1.0,
            "webhook_retry_initial_seconds": 0.2,
            "webhook_retry_longest_seconds": 1.0,
            "webhook_pause_after_failures": 3,
            "webhook_pause_after_seconds": 0.0,
            "webhook_poll_seconds": 0.2,
            "webhook_reclaim_after_seconds": 3.0,
        }
    )


@dataclass(frozen=True)
class ReceivedWebhook:
    path: str
    webhook_id: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    at: float  # time.time() on arrival


@dataclass
class WebhookReceiver:
    """A real HTTP receiver of webhooks (uvicorn): it verifies each delivery's signature
    with ``standardwebhooks.Webhook`` against the secrets given for its path (401 when
    none verifies), and answers 500 while ``failing[path]`` lasts or holds the request
    ``hang_seconds`` for a path in ``hanging``."""

    secrets: dict[str, list[str]] = field(default_factory=dict)
    failing: dict[str, int] = field(default_factory=dict)
    hanging: set[str] = field(default_factory=set)
    hang_seconds: float = 2.0
    received: list[ReceivedWebhook] = field(default_factory=list)

    def of(self, path: str) -> list[ReceivedWebhook]:
        return [r for r in self.received if r.path == path]

    def ids(self, path: str) -> set[str]:
        """The webhook-ids received at ``path``, each once (as a receiver de-duplicates)."""
        return {r.webhook_id for r in self.of(path)}

    def verifies(self, received: ReceivedWebhook, secret: str) -> bool:
        from standardwebhooks import Webhook, WebhookVerificationError

        try:
            Webhook(secret).verify(received.body, received.headers)
        except WebhookVerificationError:
            return False
        return True

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/{path}")
        async def receive(path: str, request: Request) -> Response:
            body = await request.body()
            headers = dict(request.headers)
            keys = self.secrets.get(path, [])
            arrival = ReceivedWebhook(
                path=path,
                webhook_id=headers.get("webhook-id", ""),
                headers=headers,
                body=body,
                verified=False,
                at=time.time(),
            )
            verified = any(self.verifies(arrival, k) for k in keys)
            self.received.append(ReceivedWebhook(**{**arrival.__dict__, "verified": verified}))
            if path in self.hanging:
                await asyncio.sleep(self.hang_seconds)
            if not verified:
                return Response("bad signature", status_code=401)
            if self.failing.get(path, 0) > 0:
                self.failing[path] -= 1
                return Response("receiver broken " * 100, status_code=500)
            return Response('{"ok": true}', media_type="application/json")

        return app


@asynccontextmanager
async def receiving(receiver: WebhookReceiver) -> AsyncIterator[str]:
    """Serve ``receiver`` on a free local port until the block ends; yields its URL."""
    async with served(receiver.app(), free_port(), graceful_seconds=1) as url:
        yield url
