"""Assembles the availability service from its parts (the one place that wires it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from zoneinfo import ZoneInfoNotFoundError

from slotline.availability.application import AvailabilityApplication
from slotline.availability.calendar_sync.caldav_gateway import CalDavGateway
from slotline.availability.calendar_sync.credentials import DEVELOPMENT_KEY, CredentialBox
from slotline.availability.calendar_sync.google import GoogleCalendarGateway
from slotline.availability.calendar_sync.health import calendar_health, open_tables
from slotline.availability.calendar_sync.jobs import (
    CalendarMetrics,
    CalendarPull,
    CalendarPush,
    SyncPolicy,
)
from slotline.availability.calendar_sync.links import CalendarLinks
from slotline.availability.calendar_sync.microsoft import MicrosoftCalendarGateway
from slotline.availability.calendar_sync.oauth import (
    GOOGLE_TOKEN_URL,
    MICROSOFT_SCOPE,
    MICROSOFT_TOKEN_URL,
    OAuthClient,
)
from slotline.availability.calendar_sync.port import CalendarGateway
from slotline.availability.catalog_admin import ServiceAlreadyDefined, UnknownItem
from slotline.availability.demo import DemoSeeder
from slotline.availability.domain.catalog import CatalogItemRetired
from slotline.availability.domain.hold import HoldExpired, InvalidTransition
from slotline.availability.expiry import HoldExpiry
from slotline.availability.http.admin import router as admin_router
from slotline.availability.http.calendar_links import calendar_router
from slotline.availability.http.deps import Availability
from slotline.availability.http.holds import router as holds_router
from slotline.availability.http.slots import router as slots_router
from slotline.availability.live.feed import SlotFeed
from slotline.availability.live.projection import SlotProjection
from slotline.availability.live.publishing import SlotsPublisher
from slotline.availability.messaging import publisher, subscriptions
from slotline.availability.settings import AvailabilitySettings
from slotline.events.kafka import build_producer
from slotline.events.runtime import BackgroundTask, ServiceSpec
from slotline.events.unit_of_work import ContentionTooHigh


def service_spec(
    settings: AvailabilitySettings | None = None,
) -> ServiceSpec[AvailabilityApplication]:
    settings = settings or AvailabilitySettings()
    role = settings.availability_role
    projects, serves = role in {"all", "projector"}, role in {"all", "api"}
    key = settings.calendar_credentials_key
    box = CredentialBox(key.get_secret_value() if key else DEVELOPMENT_KEY)
    calendar_metrics = CalendarMetrics()
    allow_private = settings.calendar_allow_private_addresses
    google_client = OAuthClient.configured(
        GOOGLE_TOKEN_URL,
        settings.calendar_google_client_id,
        settings.calendar_google_client_secret,
    )
    microsoft_client = OAuthClient.configured(
        MICROSOFT_TOKEN_URL.format(tenant=settings.calendar_microsoft_tenant),
        settings.calendar_microsoft_client_id,
        settings.calendar_microsoft_client_secret,
        MICROSOFT_SCOPE,
    )
    timeout = settings.calendar_timeout_seconds
    gateways: dict[str, CalendarGateway] = {
        "caldav": CalDavGateway(timeout, allow_private),
        "google": GoogleCalendarGateway(timeout, allow_private, oauth=google_client),
        "microsoft": MicrosoftCalendarGateway(timeout, allow_private, oauth=microsoft_client),
    }
    policy = SyncPolicy(
        interval=timedelta(seconds=settings.calendar_sync_interval_seconds),
        retry_ceiling=timedelta(seconds=settings.calendar_retry_ceiling_seconds),
        window=timedelta(days=settings.calendar_window_days),
        batch_size=settings.calendar_sync_batch_size,
    )

    def application(env: dict[str, str]) -> AvailabilityApplication:
        """The store, with the calendar links' tables made if missing."""
        app = AvailabilityApplication(env=env)
        open_tables(app)
        return app

    def links_of(app: Availability) -> CalendarLinks:
        return CalendarLinks(app, box, allow_private)

    def background(application: AvailabilityApplication) -> Sequence[BackgroundTask]:
        projection = SlotProjection(
            application,
            database_url=settings.database_url,
            batch_size=settings.projection_batch_size,
            idle_poll_seconds=settings.relay_idle_poll_seconds,
            pace_seconds=settings.view_pace_seconds,
            limited_threshold=settings.limited_threshold,
            horizon_roll_seconds=settings.horizon_roll_seconds,
            publisher=SlotsPublisher(
                lambda: application.sql_recorder,
                application.schema,
                lambda: build_producer(settings, role="slots"),
                poll_seconds=settings.relay_idle_poll_seconds,
            ),
        )
        serving: tuple[BackgroundTask, ...] = (
            HoldExpiry(
                application,
                interval_seconds=settings.expiry_interval_seconds,
                batch_size=settings.expiry_batch_size,
            ),
            SlotFeed(settings.database_url, settings.feed_queue_size),
            CalendarPull(
                application,
                gateways,
                box,
                policy,
                calendar_metrics,
                # Each link is due once per sync interval; looking several times per
                # interval keeps the lag near the interval.
                interval_seconds=min(settings.calendar_sync_interval_seconds / 4, 5.0),
            ),
            CalendarPush(
                application,
                gateways,
                box,
                policy,
                calendar_metrics,
                interval_seconds=settings.calendar_push_interval_seconds,
            ),
            *([DemoSeeder(application)] if settings.seed_demo else []),
        )
        return (*([projection] if projects else []), *(serving if serves else ()))

    return ServiceSpec(
        settings=settings,
        application_factory=application,
        publisher=lambda _: publisher(),
        subscriptions=subscriptions if serves else lambda _: (),
        routers=[admin_router, holds_router, slots_router, calendar_router(links_of)]
        if serves
        else [],
        relays=serves,
        title="Slotline availability",
        background=background,
        error_statuses={
            UnknownItem: 404,
            ServiceAlreadyDefined: 409,
            CatalogItemRetired: 409,
            HoldExpired: 409,
            InvalidTransition: 409,
            ContentionTooHigh: 503,
            ZoneInfoNotFoundError: 422,
            ValueError: 422,
        },
        metrics=lambda _, registry: calendar_metrics.attach(registry),
        readiness={"calendar_sync": calendar_health},
    )
