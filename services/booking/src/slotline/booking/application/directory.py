"""Which customer a phone number or e-mail address belongs to.

A customer's id is random, never a hash of their phone: this directory maps a keyed
digest of the contact key (HMAC with the tenant's key, :func:`pseudonym`) to the id.
Erasing a customer removes their entry, so one who comes back is a new customer with a
new id, whose data is sealed under a new key (the erased id's key stays destroyed).
"""

from __future__ import annotations

from typing import Any, Protocol
from uuid import UUID, uuid4

from psycopg import Cursor, sql
from psycopg.rows import DictRow

from slotline.events.side_table import SideTable
from slotline.events.wire_sealing import pseudonym


class CustomerDirectory(Protocol):
    def find(self, tenant_id: str, key: str) -> UUID | None:
        """The customer with this contact key, if any."""

    def find_or_add(self, tenant_id: str, key: str) -> UUID:
        """The customer with this contact key; a new id the first time it is met."""

    def forget(self, tenant_id: str, customer_id: UUID) -> None:
        """Erasure: the contact key leads to this customer no more."""


class MemoryDirectory:
    """For the in-memory store of use-case tests."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, str], UUID] = {}

    def find(self, tenant_id: str, key: str) -> UUID | None:
        return self._ids.get((tenant_id, pseudonym(tenant_id, key)))

    def find_or_add(self, tenant_id: str, key: str) -> UUID:
        return self._ids.setdefault((tenant_id, pseudonym(tenant_id, key)), uuid4())

    def forget(self, tenant_id: str, customer_id: UUID) -> None:
        self._ids = {k: v for k, v in self._ids.items() if v != customer_id}


class SqlDirectory:
    """``<schema>.customer_directory``, written in the caller's unit of work (so an
    entry is kept only with the customer it names) or a transaction of its own."""

    def __init__(self, datastore: Any, schema: str) -> None:
        self.rows = SideTable(
            datastore,
            schema,
            "customer_directory",
            "tenant_id text NOT NULL, key_digest text NOT NULL,"
            " customer_id uuid NOT NULL UNIQUE, PRIMARY KEY (tenant_id, key_digest)",
        )

    def _found(self, cursor: Cursor[DictRow], tenant_id: str, digest: str) -> UUID | None:
        cursor.execute(
            sql.SQL("SELECT customer_id FROM {} WHERE tenant_id = %s AND key_digest = %s").format(
                self.rows.name
            ),
            (tenant_id, digest),
        )
        row = cursor.fetchone()
        return UUID(str(row["customer_id"])) if row else None

    def find(self, tenant_id: str, key: str) -> UUID | None:
        digest = pseudonym(tenant_id, key)
        return self.rows.run(lambda cursor, _: self._found(cursor, tenant_id, digest))

    def find_or_add(self, tenant_id: str, key: str) -> UUID:
        digest = pseudonym(tenant_id, key)

        def act(cursor: Cursor[DictRow], _: object) -> UUID:
            # A new customer's id comes back from the insert (one statement). Known
            # already, or two requests of one new customer at once (the second waits on
            # the key and adds nothing): the id is read.
            cursor.execute(
                sql.SQL(
                    "INSERT INTO {} (tenant_id, key_digest, customer_id) VALUES (%s, %s, %s)"
                    " ON CONFLICT (tenant_id, key_digest) DO NOTHING RETURNING customer_id"
                ).format(self.rows.name),
                (tenant_id, digest, uuid4()),
            )
            added = cursor.fetchone()
            found = (
                UUID(str(added["customer_id"])) if added else self._found(cursor, tenant_id, digest)
            )
            assert found is not None
            return found

        return self.rows.run(act)

    def forget(self, tenant_id: str, customer_id: UUID) -> None:
        self.rows.run(
            lambda cursor, _: cursor.execute(
                sql.SQL("DELETE FROM {} WHERE tenant_id = %s AND customer_id = %s").format(
                    self.rows.name
                ),
                (tenant_id, customer_id),
            )
        )
