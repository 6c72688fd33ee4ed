"""Personal columns of read models (a day sheet's names, a call log's numbers, a
timeline's transcripts) sealed at rest, and found again through blind indexes.

The event store seals personal fields per customer (:mod:`.fields`); a read model is
rebuilt from those events, and erasure blanks or deletes its rows, so it is sealed under
one key per tenant and service: a data key in the vault under the subject
:data:`READ_MODEL_SUBJECT`, wrapped by the tenant's key like every other. A copy of the
tables (a dump, a backup, a replica) then shows no name, number, address or note.

What a front desk looks up by is kept as keyed hashes (HMAC-SHA256 under a second key
derived from the same data key, truncated to 96 bits):

- :meth:`ReadModelSeal.index`: an exact value (a phone number, an e-mail), for equality;
- :meth:`ReadModelSeal.grams`: every two-character piece of a name or address (and of a
  number's digits), for "contains". A query's pieces must all be in a row's; rows that
  pass are opened and the text is matched in full, so hashes that collide only cost a
  row read. The pieces leak how often each pair of letters occurs in a tenant's names to
  someone holding the tables, not the names; ``docs/security.md`` says so.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from slotline.events.privacy.personal import ERASED
from slotline.events.privacy.vault import KeyVault

READ_MODEL_SUBJECT = "@read-models"
"""The vault subject of a tenant's read-model key (never a customer id, which is a UUID)."""

SEALED_PREFIX = "rm:v1:"
_NONCE_BYTES = 12
_HASH_BYTES = 12


def _derive(key: bytes, purpose: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=f"slotline {purpose}".encode()
    ).derive(key)


class _TenantKeys:
    def __init__(self, data_key: bytes) -> None:
        self.aead = AESGCM(_derive(data_key, "read model sealing"))
        self.index_key = _derive(data_key, "read model index")


@lru_cache(maxsize=8192)
def _hash(index_key: bytes, kind: str, text: str) -> str:
    digest = hmac.new(index_key, f"{kind}\0{text}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:_HASH_BYTES]).decode()


def pieces(text: str) -> set[str]:
    """The two-character pieces of ``text`` (lower-cased): what "contains" is indexed by."""
    folded = text.casefold()
    return {folded[i : i + 2] for i in range(len(folded) - 1)}


def digits_of(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


class ReadModelSeal:
    """Seals and opens a service's read-model columns; hashes what they are found by."""

    def __init__(self, vault: KeyVault) -> None:
        self.vault = vault
        self._tenants: dict[str, _TenantKeys] = {}

    def _keys(self, tenant_id: str, *, create: bool) -> _TenantKeys | None:
        """The tenant's keys, looked up once per process: a read-model key is never
        destroyed (erasure blanks the rows instead), so it cannot go stale."""
        known = self._tenants.get(tenant_id)
        if known is None:
            key = self.vault.data_key(tenant_id, READ_MODEL_SUBJECT, create=create, alone=True)
            if key is None:
                return None
            known = self._tenants[tenant_id] = _TenantKeys(key)
        return known

    def seal(self, tenant_id: str, text: str | None) -> str | None:
        """``text`` sealed (None stays None; the erasure placeholder stays readable)."""
        if text is None or text == ERASED:
            return text
        keys = self._keys(tenant_id, create=True)
        assert keys is not None  # create=True: known or made
        nonce = os.urandom(_NONCE_BYTES)
        sealed = nonce + keys.aead.encrypt(nonce, text.encode(), tenant_id.encode())
        return SEALED_PREFIX + base64.b64encode(sealed).decode()

    def open(self, tenant_id: str, stored: str | None) -> str | None:
        """What :meth:`seal` sealed; a value stored before sealing is returned as it is,
        one whose key is gone reads as the erasure placeholder."""
        if stored is None or not stored.startswith(SEALED_PREFIX):
            return stored
        keys = self._keys(tenant_id, create=False)
        if keys is None:
            return ERASED
        sealed = base64.b64decode(stored[len(SEALED_PREFIX) :])
        try:
            return keys.aead.decrypt(
                sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], tenant_id.encode()
            ).decode()
        except InvalidTag:
            return ERASED

    def seal_json(self, tenant_id: str, value: Any) -> str | None:
        """A JSON value sealed as one text (a timeline line's facts)."""
        return self.seal(tenant_id, json.dumps(value, default=str))

    def open_json(self, tenant_id: str, stored: Any) -> Any:
        """What :meth:`seal_json` sealed; a value stored before sealing as it is."""
        if isinstance(stored, str) and stored.startswith(SEALED_PREFIX):
            opened = self.open(tenant_id, stored)
            return {} if opened == ERASED or opened is None else json.loads(opened)
        return stored

    def index(self, tenant_id: str, kind: str, value: str | None) -> str | None:
        """The keyed hash an exact ``value`` of ``kind`` (phone, email) is found by."""
        if value is None or value == ERASED:
            return None
        keys = self._keys(tenant_id, create=True)
        assert keys is not None
        return _hash(keys.index_key, kind, value)

    def grams(self, tenant_id: str, texts: dict[str, str | None]) -> list[str]:
        """The hashed pieces a row is searched by, per kind of text (``{"name": ...,
        "phone": ...}``; a phone by its digits)."""
        keys = self._keys(tenant_id, create=True)
        assert keys is not None
        found: set[str] = set()
        for kind, text in texts.items():
            if text is None or text == ERASED:
                continue
            for piece in pieces(digits_of(text) if kind == "phone" else text):
                found.add(_hash(keys.index_key, kind, piece))
        return sorted(found)

    def query_grams(self, tenant_id: str, kind: str, text: str) -> list[str]:
        """The hashed pieces a row must all have to contain ``text`` (none: no piece,
        as for a one-character query, which then matches no row)."""
        return self.grams(tenant_id, {kind: text})
