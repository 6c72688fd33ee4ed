"""The SMS-pumping guard on text-backs (``slotline.events.text_limits``).

Anyone can make call-intake send a text: call a clinic's line from a number and hang up.
The per-caller window (``domain/textback.py``) already stops a second text to one
number in 20 minutes; these limits bound the rest, counted in the same transaction as
the decision, so a retried unit of work counts once. A refused text-back is withheld
with its reason (on ``calls.events.v1``), logged and counted
(``slotline_text_backs_refused_total``).
"""

from __future__ import annotations

from slotline.events.rate_limits import PostgresStorage
from slotline.events.text_limits import PER_NUMBER, PER_TENANT, TextLimits
from slotline.events.unit_of_work import UnitOfWork

__all__ = ["PER_NUMBER", "PER_TENANT", "TextBackLimits"]


class TextBackLimits(TextLimits):
    def __init__(self, per_number: str, per_tenant: str) -> None:
        super().__init__(per_number, per_tenant, name="text-backs")
        self._prepared = False

    def prepare(self, storage: PostgresStorage) -> None:
        """Make the counters' table (committed), before any unit of work counts in it."""
        storage.prepare()
        self._prepared = True

    def refusal_in(self, work: UnitOfWork, schema: str, tenant_id: str, phone: str) -> str | None:
        """Count one text-back to ``phone`` in ``work``; the reason it may not be sent, or
        None."""
        if not self._prepared:
            raise RuntimeError("text-back limits need their table: call prepare() first")
        storage = PostgresStorage.on_cursor(work.cursor, schema, prepared=True)
        return self.refusal(storage, tenant_id, phone)
