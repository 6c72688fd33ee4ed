"""Which channel adapters a process uses, from its settings.

With ``SLOTLINE_SMTP_HOST`` unset, e-mail goes over SMTP to a local aiosmtpd sink; with
``SLOTLINE_PROVIDER_URL`` unset, texts go to the local provider — both file what they
take in the outbox shown at ``GET /outbox`` (what ``make run`` uses).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import httpx

from slotline.events.local.infra import free_port
from slotline.notifier.channels.email import SmtpSender
from slotline.notifier.channels.local import LocalMailSink, LocalProvider, Outbox
from slotline.notifier.channels.port import Sender
from slotline.notifier.channels.twilio import TwilioCompatibleSender
from slotline.notifier.domain.outgoing import EMAIL, SMS, WHATSAPP
from slotline.notifier.settings import NotifierSettings


@dataclass
class Channels:
    """The senders by channel, and what must start and stop with the process."""

    senders: dict[str, Sender]
    outbox: Outbox | None = None
    sink: LocalMailSink | None = None
    client: httpx.AsyncClient | None = None
    name: str = "channels"
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        """Keep the local mail sink up; close the provider client on the way out."""
        self._stopping = asyncio.Event()
        if self.sink is not None:
            self.sink.start()
        try:
            await self._stopping.wait()
        finally:
            if self.sink is not None:
                self.sink.stop()
            if self.client is not None:
                await self.client.aclose()

    def stop(self) -> None:
        self._stopping.set()


def build_channels(settings: NotifierSettings) -> Channels:
    outbox: Outbox | None = None
    sink: LocalMailSink | None = None
    client: httpx.AsyncClient | None = None
    if settings.smtp_host:
        email = SmtpSender(
            settings.smtp_host,
            settings.smtp_port,
            settings.mail_from,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            start_tls=settings.smtp_start_tls,
        )
    else:
        outbox = Outbox(settings.outbox_size)
        sink = LocalMailSink(outbox, port=free_port())
        email = SmtpSender("127.0.0.1", sink.port, settings.mail_from, start_tls=False)
    texts: Sender
    if settings.provider_url:
        # One kept-alive connection per send slot of both lanes: httpx's default pool
        # (100, 20 kept) would queue a text-back behind reminders in the pool, and open
        # and close a connection for most sends of a burst.
        connections = settings.send_concurrency + settings.prompt_send_concurrency
        client = httpx.AsyncClient(
            timeout=httpx.Timeout(10.0, connect=3.0),
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        )
        texts = TwilioCompatibleSender(
            client,
            base_url=settings.provider_url,
            account_sid=settings.provider_account_sid,
            auth_token=settings.provider_auth_token.get_secret_value(),
            default_from=settings.sms_from,
            status_callback_url=f"{settings.public_url.rstrip('/')}/providers/twilio/status",
        )
    else:
        outbox = outbox or Outbox(settings.outbox_size)
        texts = LocalProvider(outbox)
    return Channels({EMAIL: email, SMS: texts, WHATSAPP: texts}, outbox, sink, client)
