"""The key hierarchy: a master key (from the platform's secrets, or a KMS) → one key-
encryption key per tenant → one data key per subject, stored only wrapped.

``KeyEncryptionKeys`` is the port a KMS adapter implements; :class:`LocalKeyEncryptionKeys`
derives each tenant's key from the master key with HKDF, so no tenant key is stored.
"""

from __future__ import annotations

import os
from typing import Protocol

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12
KEY_BYTES = 32


class KeyEncryptionKeys(Protocol):
    """Wraps and unwraps subjects' data keys with a tenant's key (a KMS, or local)."""

    def wrap(self, tenant_id: str, subject_id: str, data_key: bytes) -> bytes: ...

    def unwrap(self, tenant_id: str, subject_id: str, wrapped: bytes) -> bytes: ...


class LocalKeyEncryptionKeys:
    """Tenant keys derived from one master key (``SLOTLINE_PRIVACY_MASTER_KEY``)."""

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) < KEY_BYTES:
            raise ValueError(f"the master key needs {KEY_BYTES} bytes, got {len(master_key)}")
        self._master = master_key
        self._tenants: dict[str, AESGCM] = {}

    def _tenant(self, tenant_id: str) -> AESGCM:
        cipher = self._tenants.get(tenant_id)
        if cipher is None:
            derived = HKDF(
                algorithm=hashes.SHA256(),
                length=KEY_BYTES,
                salt=None,
                info=f"slotline tenant key:{tenant_id}".encode(),
            ).derive(self._master)
            cipher = self._tenants[tenant_id] = AESGCM(derived)
        return cipher

    def wrap(self, tenant_id: str, subject_id: str, data_key: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        aad = f"{tenant_id}|{subject_id}".encode()
        return nonce + self._tenant(tenant_id).encrypt(nonce, data_key, aad)

    def unwrap(self, tenant_id: str, subject_id: str, wrapped: bytes) -> bytes:
        aad = f"{tenant_id}|{subject_id}".encode()
        return self._tenant(tenant_id).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], aad)


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)
