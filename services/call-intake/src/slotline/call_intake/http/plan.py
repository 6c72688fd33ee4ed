"""The tenant's call plan: a manager sets it, the front desk reads it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from slotline.call_intake.domain.plan import CallPlan
from slotline.call_intake.http.deps import FrontDesk, Intake, Manager
from slotline.events.audit import audited_route
from slotline.events.http_contract import refusals

router = APIRouter(
    prefix="/v1/call-plan",
    tags=["call plan"],
    dependencies=[Depends(audited_route("call_plan"))],
)


@router.put("", responses=refusals(409))
def set_plan(plan: CallPlan, app: Intake, manager: Manager) -> dict[str, Any]:
    """Replace the plan (hours, holidays, teams, lines, overflow, recording, manager); a
    WhatsApp number another tenant's plan lists is a 409."""
    app.define_plan(manager.tenant_id, plan)
    return plan.model_dump(mode="json")


@router.get("", responses=refusals(404))
def get_plan(app: Intake, desk: FrontDesk) -> dict[str, Any]:
    return app.plan_of(desk.tenant_id).model_dump(mode="json")
