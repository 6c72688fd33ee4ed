"""Assembles the web service (the one place that wires it): the service clients, the
pages in their order (fixed paths before the ``/{tenant}/…`` booking pages), static
files, errors, and the operations endpoints every Slotline service has."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from prometheus_client import CollectorRegistry
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from slotline.events.http import ReadinessCheck, instrument, operations_router
from slotline.events.logs import configure_logging, get_logger
from slotline.events.telemetry import configure_tracing
from slotline.web.branding import Brands
from slotline.web.catalog import Catalogs
from slotline.web.clients.credentials import ChannelCredentials
from slotline.web.clients.services import Availability, Booking, CallIntake, Payments, Services
from slotline.web.clients.upstream import ServiceUnavailable, Upstream
from slotline.web.http import (
    booking_form,
    booking_pages,
    console_bookings,
    console_callbacks,
    console_customers,
    console_session,
    console_today,
    errors,
    live,
    manage_page,
    public_files,
    stripe_return,
    waitlist_page,
)
from slotline.web.http.deps import Context
from slotline.web.http.middleware import PageMiddleware
from slotline.web.rendering import STATIC_DIR
from slotline.web.settings import WebSettings
from slotline.web.throttle import Throttle

log = get_logger(__name__)


class CachedStatic(StaticFiles):
    """Assets are addressed by content hash (``?v=``): cache them for a year."""

    async def get_response(self, path: str, scope: Scope) -> Any:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def services_of(settings: WebSettings) -> Services:
    timeout = settings.web_upstream_timeout_seconds
    return Services(
        availability=Availability(Upstream("availability", settings.web_availability_url, timeout)),
        booking=Booking(Upstream("booking", settings.web_booking_url, timeout)),
        payments=Payments(Upstream("payments", settings.web_payments_url, timeout)),
        call_intake=CallIntake(Upstream("call-intake", settings.web_call_intake_url, timeout)),
    )


def _readiness(services: Services) -> dict[str, ReadinessCheck]:
    def check(upstream: Upstream) -> ReadinessCheck:
        async def answers() -> tuple[bool, str]:
            try:
                response = await upstream.call("GET", "/healthz")
            except ServiceUnavailable as error:
                return False, str(error)[:200]
            return response.status_code == 200, f"{upstream.base_url} {response.status_code}"

        return answers

    return {
        "availability": check(services.availability.upstream),
        "booking": check(services.booking.upstream),
    }


def build_app(settings: WebSettings | None = None) -> FastAPI:
    settings = settings or WebSettings()
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per upstream call is noise
    configure_tracing(settings.service_name, settings.environment, settings.otel_exporter_endpoint)
    services = services_of(settings)
    registry = CollectorRegistry()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info("service started", service=settings.service_name, url=settings.web_public_url)
        try:
            yield
        finally:
            await services.close()

    app = FastAPI(
        title="Slotline web", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.web = Context(
        settings=settings,
        services=services,
        credentials=ChannelCredentials.from_settings(
            {t: s.get_secret_value() for t, s in settings.web_channel_tokens.items()}
        ),
        brands=Brands(settings.web_brands_dir),
        catalogs=Catalogs(services.booking),
        throttle=Throttle(settings.web_booking_rate_limit),
    )
    app.include_router(operations_router(registry, _readiness(services)))
    app.mount("/static", CachedStatic(directory=STATIC_DIR), name="static")
    for module in (
        public_files,
        console_session,
        console_today,
        console_bookings,
        console_callbacks,
        console_customers,
        live,
        manage_page,
        booking_form,
        stripe_return,
        waitlist_page,
        booking_pages,
    ):
        app.include_router(module.router)
    errors.install(app)
    app.add_middleware(GZipMiddleware, minimum_size=800)
    app.add_middleware(PageMiddleware, stripe=bool(settings.web_stripe_publishable_key))
    instrument(app, registry)
    return app
