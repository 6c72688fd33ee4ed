"""Assembles the analytics service from its parts (the one place that wires it)."""

from __future__ import annotations

from slotline.analytics.application import AnalyticsApplication
from slotline.analytics.http.dashboard import router as dashboard_router
from slotline.analytics.http.kpis import router as kpis_router
from slotline.analytics.messaging import publisher, subscriptions
from slotline.analytics.settings import AnalyticsSettings
from slotline.events.runtime import ServiceSpec


def service_spec(settings: AnalyticsSettings | None = None) -> ServiceSpec[AnalyticsApplication]:
    return ServiceSpec(
        settings=settings or AnalyticsSettings(),
        application_factory=lambda env: AnalyticsApplication(env=env),
        publisher=publisher,
        subscriptions=subscriptions,
        routers=[kpis_router, dashboard_router],
        title="Slotline analytics",
    )
