"""An erasure and a read model's batch never overlap in one store.

A projection decodes a batch (opening personal fields with keys it may have cached)
and then writes rows; an erasure destroys the person's key and blanks their rows. Were
an erasure to commit between a batch's decoding and its write, the batch would write
the person's data back after the erasure blanked it — for good. So a projection's
transaction holds this lock shared from before it decodes, and an erasure takes it
exclusively before it touches anything: whichever comes second sees the other's work
(the batch decodes placeholders, or the erasure blanks the rows just written).

"The batch decodes placeholders" only holds where it reads the key from the database: a
key cached before the erasure (in another replica for up to the vault's cache time, or
here, by a reader in the erasure's last moments) still opens the person's fields. So a
batch also asks the database, under this lock, whose keys are gone
(:meth:`~slotline.events.privacy.vault.KeyVault.keyless`) and writes nothing of theirs.
Transaction-scoped advisory locks: released by commit or rollback, never left held.
"""

from __future__ import annotations

from typing import Any

_LOCK = "SELECT pg_advisory_xact_lock{}(hashtext(%s))"


def lock_name(schema: str) -> str:
    """The advisory lock's name for one store's schema."""
    return f"slotline-erasure:{schema}"


def projecting(cursor: Any, schema: str) -> None:
    """A read model's batch is under way in this transaction (many may be at once)."""
    cursor.execute(_LOCK.format("_shared"), (lock_name(schema),))


def erasing(cursor: Any, schema: str) -> None:
    """An erasure is under way in this transaction: wait for batches in flight."""
    cursor.execute(_LOCK.format(""), (lock_name(schema),))
