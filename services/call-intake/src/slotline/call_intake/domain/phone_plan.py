"""The stored call plan of one tenant (one stream per tenant; a change replaces it)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from slotline.call_intake.domain.ids import derived_id
from slotline.call_intake.domain.plan import CallPlan


class PhonePlan(Aggregate):
    """A tenant's :class:`CallPlan` as events, so a change is on record."""

    @staticmethod
    def create_id(tenant_id: str) -> UUID:
        return derived_id("plan", tenant_id, "")

    class Defined(Aggregate.Created):
        tenant_id: str
        plan: dict[str, Any]

    @event(Defined)
    def __init__(self, tenant_id: str, plan: dict[str, Any]) -> None:
        self.tenant_id = tenant_id
        self.data = plan

    class Changed(Aggregate.Event):
        plan: dict[str, Any]

    @event(Changed)
    def change(self, plan: dict[str, Any]) -> None:
        self.data = plan

    @property
    def plan(self) -> CallPlan:
        return CallPlan.model_validate(self.data)
