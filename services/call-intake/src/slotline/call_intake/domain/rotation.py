"""Whose turn it is in a team that rings in turn (round robin) or longest idle first."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from slotline.call_intake.domain.ids import derived_id
from slotline.call_intake.domain.routing import Rotation


class TeamRotation(Aggregate):
    """The offers made to a team's members; two calls racing meet at its version."""

    @staticmethod
    def create_id(tenant_id: str, team_id: str) -> UUID:
        return derived_id("rotation", tenant_id, team_id)

    class Started(Aggregate.Created):
        tenant_id: str
        team_id: str

    @event(Started)
    def __init__(self, tenant_id: str, team_id: str) -> None:
        self.tenant_id = tenant_id
        self.team_id = team_id
        self.last_offered: str | None = None
        self.offered_at: dict[str, datetime] = {}

    class Offered(Aggregate.Event):
        staff_ids: list[str]
        at: datetime

    @event(Offered)
    def offer(self, staff_ids: list[str], at: datetime) -> None:
        for staff_id in staff_ids:
            self.offered_at[staff_id] = at
        if staff_ids:
            self.last_offered = staff_ids[-1]

    @property
    def rotation(self) -> Rotation:
        return Rotation(self.last_offered, dict(self.offered_at))
