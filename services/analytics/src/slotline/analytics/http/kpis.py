"""``GET /v1/kpis``: the caller's tenant's KPIs for a period, as JSON."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from slotline.analytics.domain.report import KpiReport
from slotline.analytics.http.deps import Analytics, Reader, ReportPeriod
from slotline.events.audit import audited_route

router = APIRouter(prefix="/v1", tags=["kpis"], dependencies=[Depends(audited_route("kpi_report"))])


@router.get("/kpis", response_model=KpiReport)
def kpis(principal: Reader, app: Analytics, period: ReportPeriod) -> KpiReport:
    """Every KPI for ``[from, to)``; rates are ``null`` where nothing could be counted."""
    return app.report(principal.tenant_id, period)
