"""``Personal``: the value a domain keeps personal data in (names, phones, e-mails,
notes, message bodies, transcripts).

Pure and free of I/O: the domain reads and writes it like any value; the event store
seals it with the subject's data key when it stores an event (see :mod:`.sealing`), and
opens it when it reads one. Once the subject is erased (the key destroyed), every stored
copy opens as :meth:`Personal.erased` — the fields read as placeholders, the rest of the
event (amounts, times, ids) stays whole, so bookings, ledgers and KPIs stay consistent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ERASED = "[erased]"


@dataclass(frozen=True)
class Personal:
    """Personal fields of one subject (a customer, a caller) in one tenant."""

    tenant_id: str
    subject_id: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    is_erased: bool = False

    def __getitem__(self, name: str) -> Any:
        return self.fields[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)

    def replaced(self, **changes: Any) -> Personal:
        """The same subject with some fields changed (an erased value stays erased)."""
        if self.is_erased:
            return self
        return Personal(self.tenant_id, self.subject_id, {**self.fields, **changes})

    @classmethod
    def erased(cls, tenant_id: str, subject_id: str, names: tuple[str, ...] = ()) -> Personal:
        """What a sealed value opens as once its subject's key is gone."""
        return cls(tenant_id, subject_id, {name: ERASED for name in names}, is_erased=True)
