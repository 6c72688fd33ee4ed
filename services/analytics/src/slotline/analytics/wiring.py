"""Assembles the analytics service from its parts (the one place that wires it)."""

from __future__ import annotations

from slotline.analytics.application import AnalyticsApplication
from slotline.analytics.http.dashboard import router as dashboard_router
from slotline.analytics.http.kpis import router as kpis_router
from slotline.analytics.live.facts import FactTables
from slotline.analytics.messaging import publisher, subscriptions
from slotline.analytics.settings import AnalyticsSettings
from slotline.events.runtime import ServiceSpec


def service_spec(settings: AnalyticsSettings | None = None) -> ServiceSpec[AnalyticsApplication]:
    """The analytics service; its fact tables are made (if missing) as its store opens."""
    return ServiceSpec(
        settings=settings or AnalyticsSettings(),
        application_factory=lambda env: AnalyticsApplication(env=env, facts=FactTables.opened),
        publisher=publisher,
        subscriptions=subscriptions,
        routers=[kpis_router, dashboard_router],
        title="Slotline analytics",
    )
