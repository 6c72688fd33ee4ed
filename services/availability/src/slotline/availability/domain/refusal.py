"""A refused hold, kept when a command asked for it: its outcome must be published.

It takes the id the hold would have had, so the same request asked again gets the
same answer instead of a second attempt.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate

from slotline.availability.domain.hold import Asked, AskedFor, Hold, HoldAsk
from slotline.availability.domain.rules import RejectionReason
from slotline.availability.domain.values import Interval


class RefusalState(AskedFor):
    """A refusal's state (declared apart: annotations on an aggregate make it a dataclass)."""

    reason: RejectionReason
    alternatives: list[Interval]


class HoldRefusal(Aggregate, RefusalState):
    """Why a hold key got no hold, and what was offered instead."""

    @classmethod
    def record(
        cls, ask: HoldAsk, *, reason: RejectionReason, alternatives: list[Interval]
    ) -> HoldRefusal:
        return cls._create(
            cls.Recorded,
            id=Hold.create_id(ask.tenant_id, ask.hold_key),
            **ask.asked(),
            reason=reason.value,
            alternatives=[[a.start, a.end] for a in alternatives],
        )

    class Recorded(Asked):
        reason: str
        alternatives: list[list[datetime]]

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.reason = RejectionReason(self.reason)
            aggregate.alternatives = [Interval(start, end) for start, end in self.alternatives]
