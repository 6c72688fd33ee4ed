"""SMS and WhatsApp through a Twilio-compatible Messages API (httpx).

``POST {base}/2010-04-01/Accounts/{sid}/Messages.json`` with ``To``, ``From``, ``Body``
(or ``ContentSid`` + ``ContentVariables`` for an approved WhatsApp template) and a
``StatusCallback`` for delivery reports. 4xx answers are permanent (invalid number,
unsubscribed recipient, …) except 408/429; 5xx, timeouts and refused connections are
transient. Each request carries an ``Idempotency-Key`` header (the message's key ×
channel) for providers that honour it.
"""

from __future__ import annotations

import json

import httpx
import phonenumbers

from slotline.notifier.channels.port import Accepted, Outgoing, Permanent, Transient
from slotline.notifier.domain.outgoing import WHATSAPP


def valid_number(phone: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(phone))
    except phonenumbers.NumberParseException:
        return False


class TwilioCompatibleSender:
    """One account at a Twilio-compatible provider."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        base_url: str,
        account_sid: str,
        auth_token: str,
        default_from: str,
        status_callback_url: str | None = None,
    ) -> None:
        self.client = client
        self.url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self.auth = httpx.BasicAuth(account_sid, auth_token)
        self.default_from = default_from
        self.status_callback_url = status_callback_url

    def form(self, message: Outgoing) -> dict[str, str]:
        if not valid_number(message.to):
            raise Permanent(f"invalid phone number {message.to!r}")
        sender = message.from_phone or self.default_from
        prefix = "whatsapp:" if message.channel == WHATSAPP else ""
        form = {"To": f"{prefix}{message.to}", "From": f"{prefix}{sender}"}
        if message.whatsapp_template:
            form["ContentSid"] = message.whatsapp_template
            form["ContentVariables"] = json.dumps(message.template_variables, sort_keys=True)
        else:
            form["Body"] = message.body
        if self.status_callback_url:
            form["StatusCallback"] = self.status_callback_url
        return form

    async def send(self, message: Outgoing) -> Accepted:
        form = self.form(message)
        try:
            response = await self.client.post(
                self.url,
                data=form,
                auth=self.auth,
                headers={"Idempotency-Key": f"{message.idempotency_key}"},
            )
        except httpx.TransportError as error:
            raise Transient(f"provider unreachable: {error!r}") from error
        if response.status_code in (200, 201):
            sid = response.json().get("sid")
            if not sid:
                raise Transient("provider accepted without a message sid")
            return Accepted(provider_reference=str(sid))
        detail = _detail(response)
        if response.status_code in (408, 429) or response.status_code >= 500:
            raise Transient(f"provider answered {response.status_code}: {detail}")
        raise Permanent(f"provider refused ({response.status_code}): {detail}")


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return f"{body.get('code', '')} {body.get('message', '')}".strip()[:300]
    return str(body)[:200]
