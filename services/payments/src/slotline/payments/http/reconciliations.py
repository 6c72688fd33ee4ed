"""``POST /v1/reconciliations``: a manager reconciles their tenant's ledgers now."""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from slotline.events.audit import audited_route
from slotline.payments.http.card_guard import refuse_card_numbers
from slotline.payments.http.deps import Manager, Payments
from slotline.payments.reconciliation import Reconciler
from slotline.payments.settings import PaymentsSettings


class ReconcileBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dry_run: StrictBool = Field(default=False, description="Report the drift, repair nothing.")


def reconciliation_router(settings: PaymentsSettings) -> APIRouter:
    router = APIRouter(
        prefix="/v1/reconciliations",
        tags=["reconciliation"],
        dependencies=[Depends(refuse_card_numbers), Depends(audited_route("reconciliation"))],
    )

    @router.post("")
    async def reconcile(
        app: Payments, caller: Manager, body: ReconcileBody | None = None
    ) -> dict[str, Any]:
        reconciler = Reconciler(
            app,
            grace_seconds=settings.reconcile_grace_seconds,
            recent_events=settings.reconcile_recent_events,
            attempts=settings.gateway_attempts,
        )
        dry_run = body.dry_run if body else False
        report = await anyio.to_thread.run_sync(
            lambda: reconciler.run(repair=not dry_run, tenant_id=caller.tenant_id)
        )
        return report.as_json()

    return router
