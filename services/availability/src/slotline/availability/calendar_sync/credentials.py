"""Calendar passwords sealed at rest (``slotline.events.sealing``) with a key from
``SLOTLINE_CALENDAR_CREDENTIALS_KEY``; the link's resource id is the associated data,
so a sealed password copied onto another link does not open."""

from __future__ import annotations

import base64
from uuid import UUID

from slotline.events.sealing import SealedValueUnreadable, SealingKeyInvalid, SecretBox

DEVELOPMENT_KEY = base64.b64encode(b"slotline-calendar-development-ke").decode()
"""Published, for development and tests only (production refuses to start with it)."""

CredentialsKeyInvalid = SealingKeyInvalid
SealedPasswordUnreadable = SealedValueUnreadable


class CredentialBox:
    """Seals and opens calendar passwords, bound to their resource; never shows them."""

    def __init__(self, key_base64: str) -> None:
        self._box = SecretBox(key_base64, "calendar credentials")

    def __repr__(self) -> str:
        return "CredentialBox(<key hidden>)"

    def seal(self, resource_id: UUID, password: str) -> bytes:
        return self._box.seal(resource_id.bytes, password)

    def open(self, resource_id: UUID, sealed: bytes) -> str:
        return self._box.open(resource_id.bytes, sealed)
