"""Where each subject's data key lives: wrapped, in the service's own schema.

A key is made the first time something about the subject is sealed, and destroyed when
the subject is erased; a tombstone then refuses a new key for that subject, so nothing
new is ever sealed readable under an erased identity. Unwrapped keys are cached for
``cache_seconds``: another replica stops reading an erased subject within that time,
the erasing process at once.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any, Protocol

from psycopg import sql

from slotline.events.privacy.keys import KeyEncryptionKeys, new_data_key


class SubjectErased(Exception):
    """The subject was erased: nothing new may be sealed for it."""


class KeyVault(Protocol):
    def data_key(self, tenant_id: str, subject_id: str, *, create: bool) -> bytes | None:
        """The subject's data key; made when ``create`` and absent; None once erased."""

    def destroy(self, tenant_id: str, subject_id: str) -> None:
        """Erase the subject: its key is gone for good (crypto-shredding)."""


class _Cache:
    def __init__(self, seconds: float, size: int = 10_000) -> None:
        self.seconds, self.size = seconds, size
        self._items: OrderedDict[tuple[str, str], tuple[float, bytes]] = OrderedDict()

    def get(self, key: tuple[str, str]) -> bytes | None:
        found = self._items.get(key)
        if found is None or found[0] < time.monotonic():
            self._items.pop(key, None)
            return None
        self._items.move_to_end(key)
        return found[1]

    def put(self, key: tuple[str, str], value: bytes) -> None:
        self._items[key] = (time.monotonic() + self.seconds, value)
        if len(self._items) > self.size:
            self._items.popitem(last=False)

    def forget(self, key: tuple[str, str]) -> None:
        self._items.pop(key, None)


class MemoryKeyVault:
    """Keys in memory: for the in-memory store of use-case tests."""

    def __init__(self, kek: KeyEncryptionKeys) -> None:
        self.kek = kek
        self._wrapped: dict[tuple[str, str], bytes | None] = {}

    def data_key(self, tenant_id: str, subject_id: str, *, create: bool) -> bytes | None:
        key = (tenant_id, subject_id)
        if key in self._wrapped and self._wrapped[key] is None:
            if create:
                raise SubjectErased(subject_id)
            return None
        if key not in self._wrapped:
            if not create:
                return None
            self._wrapped[key] = self.kek.wrap(tenant_id, subject_id, new_data_key())
        wrapped = self._wrapped[key]
        assert wrapped is not None
        return self.kek.unwrap(tenant_id, subject_id, wrapped)

    def destroy(self, tenant_id: str, subject_id: str) -> None:
        self._wrapped[(tenant_id, subject_id)] = None


class SqlKeyVault:
    """Keys in ``<schema>.personal_data_keys``, through the store's connection pool."""

    def __init__(
        self, datastore: Any, schema: str, kek: KeyEncryptionKeys, cache_seconds: float = 30.0
    ) -> None:
        self.datastore = datastore
        self.kek = kek
        self.table = sql.SQL("{}.personal_data_keys").format(sql.Identifier(schema))
        self._cache = _Cache(cache_seconds)
        self._ready = False

    def _create_table(self) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (tenant_id text NOT NULL,"
                    " subject_id text NOT NULL, wrapped bytea, erased_at timestamptz,"
                    " PRIMARY KEY (tenant_id, subject_id))"
                ).format(self.table)
            )
        self._ready = True

    def data_key(self, tenant_id: str, subject_id: str, *, create: bool) -> bytes | None:
        cached = self._cache.get((tenant_id, subject_id))
        if cached is not None:
            return cached
        if not self._ready:
            self._create_table()
        with self.datastore.transaction(commit=True) as cursor:
            if create:
                cursor.execute(
                    sql.SQL(
                        "INSERT INTO {} (tenant_id, subject_id, wrapped) VALUES (%s, %s, %s)"
                        " ON CONFLICT (tenant_id, subject_id) DO NOTHING"
                    ).format(self.table),
                    (tenant_id, subject_id, self.kek.wrap(tenant_id, subject_id, new_data_key())),
                )
            cursor.execute(
                sql.SQL(
                    "SELECT wrapped, erased_at FROM {} WHERE tenant_id = %s AND subject_id = %s"
                ).format(self.table),
                (tenant_id, subject_id),
            )
            row = cursor.fetchone()
        if row is None:
            return None
        if row["erased_at"] is not None:
            if create:
                raise SubjectErased(subject_id)
            return None
        key = self.kek.unwrap(tenant_id, subject_id, bytes(row["wrapped"]))
        self._cache.put((tenant_id, subject_id), key)
        return key

    def destroy(self, tenant_id: str, subject_id: str) -> None:
        if not self._ready:
            self._create_table()
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                sql.SQL(
                    "INSERT INTO {} (tenant_id, subject_id, wrapped, erased_at)"
                    " VALUES (%s, %s, NULL, now()) ON CONFLICT (tenant_id, subject_id)"
                    " DO UPDATE SET wrapped = NULL, erased_at = now()"
                ).format(self.table),
                (tenant_id, subject_id),
            )
        self._cache.forget((tenant_id, subject_id))
