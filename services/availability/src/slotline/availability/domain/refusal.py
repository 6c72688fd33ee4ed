"""A refused hold, kept when a command asked for it: its outcome must be published.

It takes the id the hold would have had, so the same request asked again gets the
same answer instead of a second attempt.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from slotline.availability.domain.hold import Hold
from slotline.availability.domain.rules import RejectionReason
from slotline.availability.domain.values import Interval


class HoldRefusal(Aggregate):
    """Why a hold key got no hold, and what was offered instead."""

    @classmethod
    def record(
        cls,
        *,
        tenant_id: str,
        hold_key: str,
        booking_request_id: str | None,
        service_id: UUID,
        location_id: UUID,
        slot: Interval,
        reason: RejectionReason,
        alternatives: list[Interval],
    ) -> HoldRefusal:
        return cls(
            id=Hold.create_id(tenant_id, hold_key),
            tenant_id=tenant_id,
            hold_key=hold_key,
            booking_request_id=booking_request_id,
            service_id=service_id,
            location_id=location_id,
            slot_start=slot.start,
            slot_end=slot.end,
            reason=reason.value,
            alternatives=[[a.start, a.end] for a in alternatives],
        )

    class Recorded(Aggregate.Created):
        tenant_id: str
        hold_key: str
        booking_request_id: str | None
        service_id: UUID
        location_id: UUID
        slot_start: datetime
        slot_end: datetime
        reason: str
        alternatives: list[list[datetime]]

    @event(Recorded)
    def __init__(
        self,
        id: UUID,
        tenant_id: str,
        hold_key: str,
        booking_request_id: str | None,
        service_id: UUID,
        location_id: UUID,
        slot_start: datetime,
        slot_end: datetime,
        reason: str,
        alternatives: list[list[datetime]],
    ) -> None:
        self.tenant_id = tenant_id
        self.hold_key = hold_key
        self.booking_request_id = booking_request_id
        self.service_id = service_id
        self.location_id = location_id
        self.slot = Interval(slot_start, slot_end)
        self.reason = RejectionReason(reason)
        self.alternatives = [Interval(start, end) for start, end in alternatives]
