"""The WhatsApp Cloud API webhook: its signature and the customer messages it carries.

``X-Hub-Signature-256`` is ``sha256=`` + the hex HMAC-SHA256 of the raw body keyed
with the app secret. Messages sit in ``entry[].changes[].value.messages[]`` (their
senders' names in ``value.contacts[]``, the number they wrote to in
``value.metadata.phone_number_id``); ``value.statuses[]`` report on messages we
sent, in any order — the notifier owns those, so they are accepted and left alone.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from slotline.call_intake.contacts import CustomerMessage


def signature_is_valid(app_secret: str, body: bytes, header: str | None) -> bool:
    if not header or not header.startswith("sha256=") or not app_secret:
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256="))


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Text(_Lenient):
    body: str = Field(default="", max_length=4096)


class Incoming(_Lenient):
    id: str = Field(min_length=1, max_length=256)
    from_: str = Field(alias="from", pattern=r"^\+?[1-9]\d{6,14}$")
    timestamp: str = Field(pattern=r"^\d{1,12}$")
    type: str = "text"
    text: Text | None = None
    button: dict[str, Any] | None = None
    interactive: dict[str, Any] | None = None

    def body(self) -> str | None:
        if self.text is not None:
            return self.text.body
        if self.button is not None:
            return str(self.button.get("text") or self.button.get("payload") or "") or None
        if self.interactive is not None:
            reply = self.interactive.get("button_reply") or self.interactive.get("list_reply") or {}
            return str(reply.get("title") or reply.get("id") or "") or None
        return None


class Profile(_Lenient):
    name: str | None = None


class ContactCard(_Lenient):
    wa_id: str
    profile: Profile = Field(default_factory=Profile)


class Metadata(_Lenient):
    display_phone_number: str | None = None
    phone_number_id: str | None = Field(default=None, max_length=64)


class Value(_Lenient):
    messages: list[Incoming] = Field(default_factory=list)
    contacts: list[ContactCard] = Field(default_factory=list)
    statuses: list[dict[str, Any]] = Field(default_factory=list)
    metadata: Metadata = Field(default_factory=Metadata)


class Change(_Lenient):
    field: str = "messages"
    value: Value


class Entry(_Lenient):
    changes: list[Change] = Field(default_factory=list)


class Notification(_Lenient):
    object: str = "whatsapp_business_account"
    entry: list[Entry] = Field(default_factory=list)


def customer_texts(notification: Notification, tenant_id: str) -> Iterator[CustomerMessage]:
    """Each message a customer sent, with their WhatsApp name and our number."""
    for entry in notification.entry:
        for change in entry.changes:
            value = change.value
            names = {c.wa_id: c.profile.name for c in value.contacts}
            ours = value.metadata.display_phone_number
            for message in value.messages:
                sender = message.from_.lstrip("+")
                yield CustomerMessage(
                    tenant_id=tenant_id,
                    message_id=message.id,
                    from_phone=f"+{sender}",
                    to_phone=f"+{ours.lstrip('+')}"
                    if ours and ours.lstrip("+").isdigit()
                    else None,
                    text=message.body(),
                    sent_at=datetime.fromtimestamp(int(message.timestamp), UTC),
                    profile_name=names.get(sender),
                )
