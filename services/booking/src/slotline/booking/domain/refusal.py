"""Why a booking (or a change of one) did not go ahead, as it is stored and read back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Refusal:
    """Why a booking did not go ahead, with the nearest free alternatives."""

    reason: str
    detail: str = ""
    alternatives: tuple[tuple[datetime, datetime], ...] = ()

    def to_data(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "detail": self.detail,
            "alternatives": [[s.isoformat(), e.isoformat()] for s, e in self.alternatives],
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Refusal:
        return cls(
            reason=data["reason"],
            detail=data.get("detail", ""),
            alternatives=tuple(
                (datetime.fromisoformat(s), datetime.fromisoformat(e))
                for s, e in data.get("alternatives", [])
            ),
        )
