"""Personal fields sealed on the public topics (issue 17 item 9).

Analysts and partners may read the public topics; they need ids, times and amounts,
not names, phones, e-mails, message texts or manage links. A message type lists its
personal fields in ``Message.PERSONAL``; when it is published (``Message.to_json``)
each of them is replaced by ``sealed:v1:<base64url>`` — AES-256-GCM under a key per
tenant derived from the platform's privacy master key, with the tenant, message type and
field as associated data (a sealed value moved to another tenant, type or field does not
open). Slotline's services hold the master key and open the fields when they parse a
record (``Message`` validation), so their handlers see plain values; a reader without
the key sees only the sealed text. A sealed value that does not open is refused like any
invalid field (a dead letter with the reason, never the value).

Topics outside writers write (``booking.requests.v1``) are sealed another way: channel
adapters hold no platform key, so they seal a request's contact and notes to the
tenant's public request key (:mod:`slotline.events.request_sealing`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from typing import Any, Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from slotline.events.sealing import SealedValueUnreadable, SecretBox

PREFIX: Final = "sealed:v1:"
PATTERN: Final = r"^sealed:v1:[A-Za-z0-9_-]{40,}={0,2}$"
SCHEMA: Final[dict[str, Any]] = {
    "type": "string",
    "pattern": PATTERN,
    "description": "The field's value sealed for Slotline's services (AES-256-GCM under the "
    "tenant's wire key); readers without the key see only this. Only a value sealed for "
    "this tenant, message type and field is accepted.",
}
_MASTER_ENV: Final = "SLOTLINE_PRIVACY_MASTER_KEY"


class SealedValueRefused(ValueError):
    """A sealed field that does not open for this tenant, message type and field."""


class _WireKeys:
    """Per-tenant keys derived from the master key: a box that seals fields, a key that
    makes pseudonyms (each derived once, then kept)."""

    def __init__(self) -> None:
        self._master: bytes | None = None
        self._boxes: dict[str, SecretBox] = {}
        self._derived: dict[str, bytes] = {}

    def configure(self, master_key: bytes) -> None:
        """Use this master key (the service's ``SLOTLINE_PRIVACY_MASTER_KEY``)."""
        self._master = master_key
        self._boxes.clear()
        self._derived.clear()

    def derive(self, info: str) -> bytes:
        """32 bytes for one purpose (``info``), derived from the master key (HKDF)."""
        if self._master is None:
            from slotline.events.store import privacy_master_key

            self._master = privacy_master_key(os.environ.get(_MASTER_ENV) or None)
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info.encode())
        return hkdf.derive(self._master)

    def box(self, tenant_id: str) -> SecretBox:
        found = self._boxes.get(tenant_id)
        if found is None:
            key = base64.b64encode(self.derive(f"slotline wire key:{tenant_id}")).decode()
            found = self._boxes[tenant_id] = SecretBox(key, "personal field")
        return found

    def derived(self, info: str) -> bytes:
        """:meth:`derive`, once per purpose (kept until the master key changes)."""
        found = self._derived.get(info)
        if found is None:
            found = self._derived[info] = self.derive(info)
        return found

    def pseudonym_key(self, tenant_id: str) -> bytes:
        return self.derived(f"slotline pseudonym key:{tenant_id}")


wire_keys = _WireKeys()


def _bound(tenant_id: str, event_type: str, field: str) -> bytes:
    return f"{tenant_id}|{event_type}|{field}".encode()


def seal(tenant_id: str, event_type: str, field: str, value: Any) -> str:
    plain = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    sealed = wire_keys.box(tenant_id).seal(_bound(tenant_id, event_type, field), plain)
    return PREFIX + base64.urlsafe_b64encode(sealed).decode()


def open_sealed(tenant_id: str, event_type: str, field: str, text: str) -> Any:
    try:
        raw = base64.urlsafe_b64decode(text[len(PREFIX) :])
        plain = wire_keys.box(tenant_id).open(_bound(tenant_id, event_type, field), raw)
        return json.loads(plain)
    except (SealedValueUnreadable, binascii.Error, ValueError, UnicodeDecodeError):
        raise SealedValueRefused(
            f"{field}: the sealed value does not open for this tenant and message type"
        ) from None


def pseudonym(tenant_id: str, value: str) -> str:
    """A stable stand-in for a personal value where a key or join needs one (a record's
    Kafka key): keyed with the tenant's wire key, so it is not recomputable from a phone
    number by anyone without that key."""
    key = wire_keys.pseudonym_key(tenant_id)
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:32]


def is_sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def seal_fields(data: dict[str, Any], event_type: str, fields: tuple[str, ...]) -> None:
    """Seal the named fields of a dumped message in place (absent or null: left)."""
    tenant = str(data["tenant_id"])
    for field in fields:
        value = data.get(field)
        if value is not None and not is_sealed(value):
            data[field] = seal(tenant, event_type, field, value)


def open_fields(data: dict[str, Any], event_type: str, fields: tuple[str, ...]) -> dict[str, Any]:
    """A copy of a raw message with its sealed fields opened (the others as they were)."""
    tenant = data.get("tenant_id")
    if not isinstance(tenant, str):
        return data  # the envelope's own validation says what is wrong
    opened = dict(data)
    for field in fields:
        if is_sealed(opened.get(field)):
            opened[field] = open_sealed(tenant, event_type, field, opened[field])
    return opened


def open_record(body: dict[str, Any]) -> dict[str, Any]:
    """A published record's JSON with its sealed fields opened, by the contract type it
    names (for tools and tests that read raw records); unknown types as they are."""
    from slotline.events.contract.registry import MESSAGES

    kind = MESSAGES.get((str(body.get("event_type")), _version(body.get("schema_version"))))
    if kind is None:
        return body
    sealable: tuple[str, ...] = getattr(kind, "SEALABLE", ())
    if sealable:  # sealed by its sender for booking (booking.requests.v1)
        from slotline.events import request_sealing

        return request_sealing.open_fields(body, kind.EVENT_TYPE, sealable)[0]
    if not kind.PERSONAL:
        return body
    try:
        return open_fields(body, kind.EVENT_TYPE, kind.PERSONAL)
    except SealedValueRefused:
        return body


def _version(value: Any) -> int:
    return value if isinstance(value, int) else 0


LETTER_FIELDS: Final = frozenset(
    {
        "contact",
        "name",
        "phone",
        "email",
        "notes",
        "text",
        "transcription",
        "authorization",
        "payment_token",
        "manage_url",
        "booking_url",
        "recording_url",
        "url",
        "variables",
        "from_phone",
        "to_phone",
        "to_email",
        "caller_phone",
        "customer_phone",
        "recipient_email",
    }
)
"""Fields a dead letter keeps sealed, whatever the refused record claimed to be: a record
that did not parse cannot be trusted to say which of its fields are personal."""
LETTER_TYPE: Final = "dead-letter"
REMOVED: Final = "[personal data removed]"


def sealed_letter_payload(text: str) -> str:
    """A refused record's value as a dead letter keeps it: personal-looking fields sealed
    under the tenant's wire key (``open_fields(payload, LETTER_TYPE, …)`` opens them for
    a redrive), or removed when the record names no tenant; anything else as it was."""
    try:
        body = json.loads(text)
    except ValueError:
        return text
    if not isinstance(body, dict):
        return text
    tenant = body.get("tenant_id")
    if not _seal_letter(body, tenant if isinstance(tenant, str) and tenant else None):
        return text  # nothing personal-looking: kept byte for byte
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def _seal_letter(node: dict[str, Any], tenant: str | None) -> bool:
    changed = False
    for name, value in list(node.items()):
        if name in LETTER_FIELDS and value is not None and not is_sealed(value):
            node[name] = seal(tenant, LETTER_TYPE, name, value) if tenant else REMOVED
            changed = True
        elif isinstance(value, dict):
            changed = _seal_letter(value, tenant) or changed
    return changed
