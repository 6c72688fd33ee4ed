"""Secrets a service must keep and use again (a calendar password, a webhook signing
secret) sealed at rest: AES-256-GCM from ``cryptography``, with what the secret belongs
to as associated data, so a sealed value copied onto another record does not open.

Not for personal data (``slotline.events.privacy`` has per-customer keys that can be
destroyed); this is one key per service, from its settings.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES = 12
_TEXT_PREFIX = "sealed:v1:"


class SealingKeyInvalid(ValueError):
    """The configured key is not base64 of 16, 24 or 32 bytes."""


class SealedValueUnreadable(Exception):
    """A sealed value does not open with this key (wrong key, tampered, or moved)."""


def development_key(purpose: str) -> str:
    """A published key for development and tests (production refuses it): 32 bytes."""
    return base64.b64encode(
        f"slotline-{purpose}-development-key".encode()[:32].ljust(32, b"!")
    ).decode()


class SecretBox:
    """Seals and opens one kind of secret; never logs or shows them."""

    def __init__(self, key_base64: str, what: str = "secret") -> None:
        self.what = what
        try:
            key = base64.b64decode(key_base64, validate=True)
        except (binascii.Error, ValueError) as error:
            raise SealingKeyInvalid(f"the {what} key is not base64") from error
        if len(key) not in (16, 24, 32):
            raise SealingKeyInvalid(
                f"the {what} key is {len(key)} bytes; AES-GCM takes 16, 24 or 32"
            )
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return f"SecretBox({self.what}, <key hidden>)"

    def seal(self, belongs_to: bytes, secret: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, secret.encode(), belongs_to)

    def open(self, belongs_to: bytes, sealed: bytes) -> str:
        nonce, ciphertext = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, ciphertext, belongs_to).decode()
        except InvalidTag:
            raise SealedValueUnreadable(
                f"the {self.what} does not open with the configured key"
            ) from None

    def seal_text(self, belongs_to: str, secret: str) -> str:
        """As text, for a JSON column: ``sealed:v1:`` and base64."""
        sealed = self.seal(belongs_to.encode(), secret)
        return _TEXT_PREFIX + base64.b64encode(sealed).decode()

    def open_text(self, belongs_to: str, text: str) -> str:
        """What :meth:`seal_text` sealed; a value stored before sealing (no prefix) is
        returned as it is, so existing rows keep working and are sealed when next
        written."""
        if not text.startswith(_TEXT_PREFIX):
            return text
        return self.open(belongs_to.encode(), base64.b64decode(text[len(_TEXT_PREFIX) :]))
