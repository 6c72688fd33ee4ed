"""Calls the ledger asks the gateway to make, each with its idempotency key.

An operation is recorded in the ledger *before* the call is made; its key is derived
from the ledger (its id and the version of the request), so re-making the call after a
crash — by the dispatcher or by reconciliation — can never charge twice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID


class OperationKind(StrEnum):
    AUTHORIZE = "authorize"  # reserve (manual capture)
    CHARGE = "charge"  # reserve and take at once (fees beyond what is held)
    CAPTURE = "capture"
    VOID = "void"
    REFUND = "refund"


def operation_key(ledger_id: UUID, version: int, kind: OperationKind) -> str:
    """The idempotency key of the call requested at ``version`` of a ledger."""
    return f"slotline-{ledger_id}-{version}-{kind.value}"


@dataclass(frozen=True, slots=True)
class Operation:
    """One gateway call, with everything needed to (re)make it."""

    kind: OperationKind
    key: str
    payment_id: str
    amount: int
    currency: str
    token: str | None = None
    reference: str | None = None
    refund_id: str | None = None
    reason: str = ""

    def to_data(self) -> dict[str, Any]:
        return asdict(self) | {"kind": self.kind.value}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Operation:
        return cls(**{**data, "kind": OperationKind(data["kind"])})
