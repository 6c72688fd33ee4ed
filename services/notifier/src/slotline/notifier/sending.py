"""Sending one message: render every part first, then each channel in turn.

Transient failures are retried with exponential backoff (tenacity); a permanent one,
or retries used up, moves on to the message's next channel. WhatsApp outside the
24-hour customer window uses the template's approved provider template.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from slotline.events.logs import get_logger
from slotline.notifier.channels.port import (
    Accepted,
    Attachment,
    DeliveryFailure,
    Outgoing,
    Permanent,
    Sender,
    Transient,
)
from slotline.notifier.domain.outgoing import EMAIL, WHATSAPP, QueuedMessage, Send
from slotline.notifier.outcomes import Attempt, Result, SendingContext
from slotline.notifier.rendering import Rendered, TemplateProblem, Templates

log = get_logger(__name__)

CUSTOMER_WINDOW = timedelta(hours=24)


class Delivery:
    """Hands messages to the channel senders (how many at once is the dispatcher's lane's
    business)."""

    def __init__(
        self,
        senders: Mapping[str, Sender],
        templates: Templates,
        *,
        whatsapp_templates: Mapping[str, str],
        attempts: int = 4,
        initial_backoff_seconds: float = 0.5,
    ) -> None:
        self.senders = senders
        self.templates = templates
        self.whatsapp_templates = whatsapp_templates
        self.attempts = attempts
        self.initial_backoff_seconds = initial_backoff_seconds

    async def deliver(
        self, message: QueuedMessage, decision: Send, context: SendingContext, now: datetime
    ) -> Result:
        try:
            rendered = self.templates.render(
                message.tenant_id,
                message.template,
                message.language,
                message.variables,
                decision.channels,
            )
        except TemplateProblem as problem:
            log.warning("template problem", key=message.key, problem=str(problem))
            return Result(message, refused=decision.refused, problem=str(problem))
        attempts: list[Attempt] = []
        for channel in decision.channels:
            try:
                outgoing = self.outgoing(message, channel, rendered, context, now)
                accepted = await self._send(channel, outgoing)
            except DeliveryFailure as failure:
                log.info("channel failed", key=message.key, channel=channel, reason=str(failure))
                attempts.append(Attempt(channel, None, failure.permanent, str(failure)[:480]))
                continue
            attempts.append(Attempt(channel, accepted.provider_reference))
            break
        return Result(message, tuple(attempts), decision.refused)

    def outgoing(
        self,
        message: QueuedMessage,
        channel: str,
        rendered: Rendered,
        context: SendingContext,
        now: datetime,
    ) -> Outgoing:
        address = message.address(channel)
        if not address:
            raise Permanent(f"no address for {channel}")
        key = f"{message.key}/{channel}"
        if channel == EMAIL:
            attachments: tuple[Attachment, ...] = ()
            if message.calendar:
                method = "CANCEL" if "METHOD:CANCEL" in message.calendar else "REQUEST"
                attachments = (
                    Attachment(
                        "booking.ics",
                        f"text/calendar; method={method}",
                        message.calendar.encode(),
                    ),
                )
            return Outgoing(
                channel=channel,
                to=address,
                idempotency_key=key,
                subject=rendered.subject,
                body=rendered.text or "",
                html=rendered.html,
                attachments=attachments,
            )
        template_sid = None
        if channel == WHATSAPP:
            opened = context.windows.get((message.tenant_id, address))
            if opened is None or now - opened > CUSTOMER_WINDOW:
                template_sid = self.whatsapp_templates.get(message.template)
                if template_sid is None:
                    raise Permanent(
                        f"no approved WhatsApp template for {message.template!r} outside the "
                        "24-hour customer window"
                    )
        return Outgoing(
            channel=channel,
            to=address,
            idempotency_key=key,
            body=rendered.short or "",
            from_phone=message.from_phone,
            whatsapp_template=template_sid,
            template_variables=dict(message.variables) if template_sid else {},
        )

    async def _send(self, channel: str, outgoing: Outgoing) -> Accepted:
        sender = self.senders.get(channel)
        if sender is None:
            raise Permanent(f"no {channel} channel configured")
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=self.initial_backoff_seconds, max=30),
            retry=retry_if_exception_type(Transient),
            reraise=True,
        ):
            with attempt:
                return await sender.send(outgoing)
        raise AssertionError("unreachable: tenacity re-raises the last failure")
