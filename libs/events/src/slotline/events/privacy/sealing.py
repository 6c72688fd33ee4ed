"""Sealing ``Personal`` values in stored events: an eventsourcing transcoding.

Each value is encrypted with AES-GCM under its subject's data key (the tenant and
subject bound in as associated data, so a sealed value cannot be moved to another
subject), and only its field *names*, tenant and subject id stay readable. A value
whose key is gone opens as :meth:`Personal.erased`.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import Transcoding

from slotline.events.privacy.keys import NONCE_BYTES
from slotline.events.privacy.personal import Personal
from slotline.events.privacy.vault import KeyVault


class SealedPersonal(Transcoding):
    type = Personal
    name = "personal"

    def __init__(self, vault: Callable[[], KeyVault]) -> None:
        self._vault = vault

    def encode(self, obj: Personal) -> dict[str, Any]:
        names = sorted(obj.fields)
        sealed: dict[str, Any] = {"t": obj.tenant_id, "s": obj.subject_id, "n": names}
        if obj.is_erased:
            return {**sealed, "erased": True}
        key = self._vault().data_key(obj.tenant_id, obj.subject_id, create=True)
        assert key is not None
        nonce = os.urandom(NONCE_BYTES)
        plain = json.dumps(dict(obj.fields), sort_keys=True, default=str).encode()
        cipher = AESGCM(key).encrypt(nonce, plain, _bound(obj.tenant_id, obj.subject_id))
        return {**sealed, "c": base64.b64encode(nonce + cipher).decode()}

    def decode(self, data: dict[str, Any]) -> Personal:
        tenant, subject, names = data["t"], data["s"], tuple(data.get("n", ()))
        if data.get("erased"):
            return Personal.erased(tenant, subject, names)
        key = self._vault().data_key(tenant, subject, create=False)
        if key is None:
            return Personal.erased(tenant, subject, names)
        raw = base64.b64decode(data["c"])
        plain = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _bound(tenant, subject))
        return Personal(tenant, subject, json.loads(plain))


def _bound(tenant_id: str, subject_id: str) -> bytes:
    return f"{tenant_id}|{subject_id}".encode()
