"""Calendar passwords sealed at rest: AES-256-GCM (``cryptography``) with a key from
``SLOTLINE_CALENDAR_CREDENTIALS_KEY``; the link's resource id is the associated data,
so a sealed password copied onto another link does not open."""

from __future__ import annotations

import base64
import binascii
import os
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

DEVELOPMENT_KEY = base64.b64encode(b"slotline-calendar-development-ke").decode()
"""Published, for development and tests only (production refuses to start with it)."""

_NONCE_BYTES = 12


class CredentialsKeyInvalid(ValueError):
    """The configured key is not base64 of 16, 24 or 32 bytes."""


class SealedPasswordUnreadable(Exception):
    """A sealed password does not open with this key (wrong key, or tampered)."""


class CredentialBox:
    """Seals and opens calendar passwords; never logs or shows them."""

    def __init__(self, key_base64: str) -> None:
        try:
            key = base64.b64decode(key_base64, validate=True)
        except (binascii.Error, ValueError) as error:
            raise CredentialsKeyInvalid("the calendar credentials key is not base64") from error
        if len(key) not in (16, 24, 32):
            raise CredentialsKeyInvalid(
                f"the calendar credentials key is {len(key)} bytes; AES-GCM takes 16, 24 or 32"
            )
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return "CredentialBox(<key hidden>)"

    def seal(self, resource_id: UUID, password: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, password.encode(), resource_id.bytes)

    def open(self, resource_id: UUID, sealed: bytes) -> str:
        nonce, ciphertext = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, ciphertext, resource_id.bytes).decode()
        except InvalidTag:
            raise SealedPasswordUnreadable(
                "the calendar password does not open with the configured key"
            ) from None
