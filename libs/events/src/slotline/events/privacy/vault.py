"""Where each subject's data key lives: wrapped, in the service's own schema.

A key is made the first time something about the subject is sealed, and destroyed when
the subject is erased. The row stays, marked: what was sealed before reads as erased for
good, and a subject met again (a caller whose number was erased calls back) gets a new
key, under which only what is new is readable. Unwrapped keys are cached for
``cache_seconds``; a destroyed key is announced to every process sharing the table
(:mod:`~slotline.events.privacy.erasure_notice`), which forgets it when it hears the
notice, and within ``cache_seconds`` in any case (what another process seals with the
old key before then is lost with it: erasure is rare, and its ``CustomerErased``
reaches every service).
"""

from __future__ import annotations

import functools
import time
import uuid
from collections import OrderedDict
from collections.abc import Collection
from typing import Any, Protocol

from psycopg import Cursor, sql
from psycopg.rows import DictRow

from slotline.events.privacy.erasure_notice import ErasureNotice, Subject, erasures_channel
from slotline.events.privacy.keys import KeyEncryptionKeys, new_data_key
from slotline.events.side_table import SideTable
from slotline.events.unit_of_work import UnitOfWork


class KeyVault(Protocol):
    kek: KeyEncryptionKeys
    """The tenants' keys the data keys are wrapped with (other small secrets too)."""
    origin: str
    """This vault, among the processes that share its keys (an erasure notice names it)."""
    erasures_channel: str | None
    """Where a destroyed key is announced to the other processes sharing the keys
    (:class:`~slotline.events.privacy.erasure_notice.ErasureNotices`); None: no one
    shares them."""

    def data_key(
        self, tenant_id: str, subject_id: str, *, create: bool, alone: bool = False
    ) -> bytes | None:
        """The subject's data key; made when ``create`` and absent; None once erased.
        ``alone``: made in a transaction of its own, kept whatever the open unit of
        work does (for a key its caller keeps for good)."""

    def destroy(self, tenant_id: str, subject_id: str) -> None:
        """Erase the subject: its key is gone for good (crypto-shredding)."""

    def erased_once(self, tenant_id: str, subject_id: str) -> bool:
        """Whether the subject was ever erased (a text that does not open under their
        key is then one sealed before)."""

    def keyless(self, cursor: Any, subjects: Collection[Subject]) -> set[Subject]:
        """Those of ``subjects`` whose key is destroyed, as ``cursor``'s transaction sees
        it, whatever is cached: a read model asks under the erasure lock before it writes
        what it decoded (with a key this process, or another replica for up to the
        cache's time, may still hold after the erasure)."""

    def forget(self, subject: Subject | None) -> None:
        """Drop ``subject``'s cached key (None: every cached key): another process
        destroyed it."""


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

    def clear(self) -> None:
        self._items.clear()


class MemoryKeyVault:
    """Keys in memory: for the in-memory store of use-case tests."""

    erasures_channel: str | None = None

    def __init__(self, kek: KeyEncryptionKeys) -> None:
        self.kek = kek
        self.origin = uuid.uuid4().hex
        self._wrapped: dict[tuple[str, str], bytes] = {}
        self._erased: set[tuple[str, str]] = set()

    def data_key(
        self, tenant_id: str, subject_id: str, *, create: bool, alone: bool = False
    ) -> bytes | None:
        key = (tenant_id, subject_id)
        if key not in self._wrapped:
            if not create:
                return None
            self._wrapped[key] = self.kek.wrap(tenant_id, subject_id, new_data_key())
        return self.kek.unwrap(tenant_id, subject_id, self._wrapped[key])

    def destroy(self, tenant_id: str, subject_id: str) -> None:
        self._wrapped.pop((tenant_id, subject_id), None)
        self._erased.add((tenant_id, subject_id))

    def erased_once(self, tenant_id: str, subject_id: str) -> bool:
        return (tenant_id, subject_id) in self._erased

    def keyless(self, cursor: Any, subjects: Collection[Subject]) -> set[Subject]:
        return {s for s in subjects if s in self._erased and s not in self._wrapped}

    def forget(self, subject: Subject | None) -> None:
        """Nothing to forget: the keys live here, and no other process shares them."""


class SqlKeyVault:
    """Keys in ``<schema>.personal_data_keys``, through the store's connection pool."""

    def __init__(
        self, datastore: Any, schema: str, kek: KeyEncryptionKeys, cache_seconds: float = 30.0
    ) -> None:
        self.kek = kek
        self.rows = SideTable(
            datastore,
            schema,
            "personal_data_keys",
            "tenant_id text NOT NULL, subject_id text NOT NULL, wrapped bytea,"
            " erased_at timestamptz, PRIMARY KEY (tenant_id, subject_id)",
        )
        self._cache = _Cache(cache_seconds)
        self.origin = uuid.uuid4().hex
        self.erasures_channel: str | None = erasures_channel(schema)

    def data_key(
        self, tenant_id: str, subject_id: str, *, create: bool, alone: bool = False
    ) -> bytes | None:
        cached = self._cache.get((tenant_id, subject_id))
        if cached is not None:
            return cached

        subject = (tenant_id, subject_id)

        def act(cursor: Cursor[DictRow], work: UnitOfWork | None) -> bytes | None:
            if work is not None and (known := work.data_keys.get(subject)) is not None:
                return known  # e.g. a booking's confirmation, reminders and card: one read
            row = self._find(cursor, tenant_id, subject_id, create)
            if row is None or row["wrapped"] is None:
                return None
            key = self.kek.unwrap(tenant_id, subject_id, bytes(row["wrapped"]))
            if work is None:
                self._cache.put(subject, key)
            else:  # a key made in a unit of work is kept only if the work commits
                work.data_keys[subject] = key
                work.after_commit(lambda: self._cache.put(subject, key))
            return key

        found: bytes | None = self.rows.run(act, alone=alone)
        return found

    def _find(
        self, cursor: Cursor[DictRow], tenant_id: str, subject_id: str, create: bool
    ) -> DictRow | None:
        if create:  # a new key, or a new one where the subject's was destroyed
            cursor.execute(
                sql.SQL(
                    "INSERT INTO {t} AS k (tenant_id, subject_id, wrapped) VALUES (%s, %s, %s)"
                    " ON CONFLICT (tenant_id, subject_id) DO UPDATE"
                    " SET wrapped = EXCLUDED.wrapped WHERE k.wrapped IS NULL"
                ).format(t=self.rows.name),
                (tenant_id, subject_id, self.kek.wrap(tenant_id, subject_id, new_data_key())),
            )
        cursor.execute(
            sql.SQL(
                "SELECT wrapped, erased_at FROM {} WHERE tenant_id = %s AND subject_id = %s"
            ).format(self.rows.name),
            (tenant_id, subject_id),
        )
        return cursor.fetchone()

    def destroy(self, tenant_id: str, subject_id: str) -> None:
        """In the caller's unit of work when there is one (the erasure is then kept
        with whatever else the work records, a consumed message's position included)."""

        def act(cursor: Cursor[DictRow], work: UnitOfWork | None) -> None:
            cursor.execute(
                sql.SQL(
                    "INSERT INTO {} (tenant_id, subject_id, wrapped, erased_at)"
                    " VALUES (%s, %s, NULL, now()) ON CONFLICT (tenant_id, subject_id)"
                    " DO UPDATE SET wrapped = NULL, erased_at = now()"
                ).format(self.rows.name),
                (tenant_id, subject_id),
            )
            notice = ErasureNotice(tenant_id, subject_id, self.origin)
            cursor.execute("SELECT pg_notify(%s, %s)", (self.erasures_channel, notice.payload()))
            if work is not None:  # and once more when committed, in case a read refilled it
                work.data_keys.pop((tenant_id, subject_id), None)
                work.after_commit(lambda: self._cache.forget((tenant_id, subject_id)))

        self.rows.run(act)
        self._cache.forget((tenant_id, subject_id))

    def forget(self, subject: Subject | None) -> None:
        if subject is None:
            self._cache.clear()
        else:
            self._cache.forget(subject)

    def erased_once(self, tenant_id: str, subject_id: str) -> bool:
        def act(cursor: Cursor[DictRow], _: object) -> bool:
            cursor.execute(
                sql.SQL("SELECT erased_at FROM {} WHERE tenant_id = %s AND subject_id = %s").format(
                    self.rows.name
                ),
                (tenant_id, subject_id),
            )
            row = cursor.fetchone()
            return row is not None and row["erased_at"] is not None

        found: bool = self.rows.run(act)
        return found

    def keyless(self, cursor: Any, subjects: Collection[Subject]) -> set[Subject]:
        if not subjects:
            return set()
        tenants, ids = zip(*subjects, strict=True)
        cursor.execute(self._keyless_statement, (list(tenants), list(ids)), prepare=True)
        return {(row["tenant_id"], row["subject_id"]) for row in cursor.fetchall()}

    @functools.cached_property
    def _keyless_statement(self) -> bytes:
        return (
            sql.SQL(
                "SELECT k.tenant_id, k.subject_id FROM {} AS k"
                " JOIN unnest(%s::text[], %s::text[]) AS s (tenant_id, subject_id)"
                " USING (tenant_id, subject_id) WHERE k.wrapped IS NULL"
            )
            .format(self.rows.name)
            .as_bytes(None)
        )
