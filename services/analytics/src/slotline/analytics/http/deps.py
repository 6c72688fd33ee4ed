"""FastAPI dependencies shared by the analytics routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Query, Request

from slotline.analytics.application import AnalyticsApplication
from slotline.analytics.domain.facts import Period
from slotline.analytics.http.period import requested_period
from slotline.analytics.settings import AnalyticsSettings
from slotline.events.auth import Principal, Role, require_roles
from slotline.events.runtime import application_dependency

MOMENT: dict[str, Any] = {
    "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]
}
"""What ``from`` and ``to`` accept (see :func:`slotline.analytics.http.period.moment`)."""

READERS = (Role.ANALYST, Role.MANAGER)
"""Analysts and managers (owners included) read their tenant's KPIs."""


analytics = application_dependency(AnalyticsApplication)
"""The service's own application, for its routes."""


async def report_period(
    request: Request,
    start: Annotated[
        str | None,
        Query(
            alias="from",
            description="ISO date or date-time; default: 30 days before `to`.",
            json_schema_extra=MOMENT,
        ),
    ] = None,
    end: Annotated[
        str | None,
        Query(
            alias="to",
            description="ISO date (inclusive) or date-time (exclusive); default: now. After"
            " `from`, and a report covers at most the service's SLOTLINE_MAX_REPORT_DAYS.",
            json_schema_extra=MOMENT,
        ),
    ] = None,
) -> Period:
    settings: AnalyticsSettings = request.app.state.runtime.spec.settings
    app = await analytics(request)
    now: datetime = app.clock()
    return requested_period(
        start,
        end,
        now,
        default_days=settings.default_report_days,
        max_days=settings.max_report_days,
    )


Analytics = Annotated[AnalyticsApplication, Depends(analytics)]
ReportPeriod = Annotated[Period, Depends(report_period)]
Reader = Annotated[Principal, Depends(require_roles(*READERS))]
