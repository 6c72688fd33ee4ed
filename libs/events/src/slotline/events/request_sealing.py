"""Personal fields a channel adapter seals for booking on ``booking.requests.v1``
(issue 17 item 9).

Channel adapters (partner apps, kiosks, bots) write ``booking.requests.v1`` but hold no
platform key, so the wire sealing of the other topics is not open to them. Instead each
tenant has a public *request key*: an adapter seals a request's ``contact`` and
``notes`` to it with HPKE (RFC 9180, base mode: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
AES-256-GCM; any HPKE library can do it) and sends ``hpke:v1:<base64url(enc ‖ ct)>``
in the field's place. The HPKE ``info`` is ``<tenant>|<event_type>|<field>``, so a value
sealed for one tenant, message type or field does not open as another. Only Slotline's
services can open it: the private key is derived from the privacy master key (HKDF), so
rotating the master key rotates the request keys too.

Booking publishes each tenant's public key at ``GET /v1/public/{tenant}/request-key``;
in production it refuses a request whose contact or notes came in clear.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from slotline.events.wire_sealing import wire_keys

PREFIX: Final = "hpke:v1:"
PATTERN: Final = r"^hpke:v1:[A-Za-z0-9_-]{64,}={0,2}$"
MAX_LENGTH: Final = 12_000
SUITE_NAME: Final = "HPKE base mode: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM"
_SUITE: Final = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
SCHEMA: Final[dict[str, Any]] = {
    "type": "string",
    "pattern": PATTERN,
    "maxLength": MAX_LENGTH,
    "description": "The field's value (as JSON) sealed to the tenant's public request key "
    "(GET /v1/public/{tenant}/request-key): " + SUITE_NAME + ", info "
    "'<tenant_id>|BookingRequested|<field>', sent as hpke:v1:<base64url(enc || ciphertext)>. "
    "Only a value sealed for this tenant and field opens: one that does not is answered "
    "BookingRequestRefused (reason unreadable).",
}
SEALED_FIELDS: Final = ("contact", "notes")
"""The fields of a new request that may come sealed for booking."""


class SealedForBookingRefused(ValueError):
    """A value sealed for booking that does not open (another tenant's key, another field,
    altered) — the reason names the field, never a value."""


def _private_key(tenant_id: str) -> X25519PrivateKey:
    return _private_key_of(wire_keys.derived(f"slotline request key:{tenant_id}"))


@lru_cache(maxsize=1024)
def _private_key_of(private: bytes) -> X25519PrivateKey:
    """Built once per key, not per sealed field: ~36 µs of the ~89 µs an opening took
    (each request carries a few sealed fields). Keyed by the key's bytes, so a new
    master key gives new keys."""
    return X25519PrivateKey.from_private_bytes(private)


def request_public_key(tenant_id: str) -> str:
    """The tenant's public request key, raw X25519 bytes in base64url (what adapters seal to)."""
    private = wire_keys.derived(f"slotline request key:{tenant_id}")
    return _public_of(private)


@lru_cache(maxsize=1024)
def _public_of(private: bytes) -> str:
    key = X25519PrivateKey.from_private_bytes(private).public_key()
    return base64.urlsafe_b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def _info(tenant_id: str, event_type: str, field: str) -> bytes:
    return f"{tenant_id}|{event_type}|{field}".encode()


def seal_for_booking(
    public_key: str, tenant_id: str, event_type: str, field: str, value: Any
) -> str:
    """What an adapter sends in ``field``'s place: ``value`` (as JSON) sealed to the
    tenant's public request key."""
    key = _public_key(public_key)
    plain = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    sealed = _SUITE.encrypt(plain, key, info=_info(tenant_id, event_type, field))
    return PREFIX + base64.urlsafe_b64encode(sealed).decode()


@lru_cache(maxsize=1024)
def _public_key(text: str) -> X25519PublicKey:
    return X25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(text))


def is_sealed_for_booking(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def open_for_booking(tenant_id: str, event_type: str, field: str, text: str) -> Any:
    """The value an adapter sealed in ``field``; :class:`SealedForBookingRefused` if it
    does not open for this tenant, message type and field."""
    try:
        raw = base64.urlsafe_b64decode(text[len(PREFIX) :])
        plain = _SUITE.decrypt(
            raw, _private_key(tenant_id), info=_info(tenant_id, event_type, field)
        )
        return json.loads(plain)
    except (InvalidTag, binascii.Error, ValueError, UnicodeDecodeError):
        raise SealedForBookingRefused(
            f"{field}: the sealed value does not open with this tenant's request key"
        ) from None


def open_fields(
    data: dict[str, Any],
    event_type: str,
    fields: tuple[str, ...],
    check: Callable[[str, Any], None] = lambda field, value: None,
) -> tuple[dict[str, Any], frozenset[str], dict[str, str]]:
    """A copy of a raw message with each of ``fields`` that came sealed for booking
    opened (and passed to ``check``, which raises ``ValueError`` for a value the field
    may not hold): the copy, the fields that came sealed, and why each one that did
    not open failed (it keeps its sealed text in the copy)."""
    opened, sealed, failed = dict(data), set(), {}
    tenant = str(data.get("tenant_id"))
    for field in fields:
        value = data.get(field)
        if not isinstance(value, str) or not is_sealed_for_booking(value):
            continue
        sealed.add(field)
        try:
            plain = open_for_booking(tenant, event_type, field, value)
            check(field, plain)
        except ValueError as error:  # SealedForBookingRefused is one
            failed[field] = str(error)
            continue
        opened[field] = plain
    return opened, frozenset(sealed), failed
