"""Assembles the booking service from its parts (the one place that wires it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from slotline.booking.application import (
    BookingApplication,
    IdempotencyKeyReused,
    SagaTimeouts,
    UnknownBooking,
)
from slotline.booking.application.waitlist import WaitlistRefused
from slotline.booking.domain.booking import InvalidTransition
from slotline.booking.domain.contact import InvalidContact
from slotline.booking.domain.money import CurrencyMismatch
from slotline.booking.domain.waitlist_values import NotInLine
from slotline.booking.http.board_stream import router as board_stream_router
from slotline.booking.http.bookings import router as bookings_router
from slotline.booking.http.catalog import router as catalog_router
from slotline.booking.http.customer_search import router as customer_search_router
from slotline.booking.http.customers import router as customers_router
from slotline.booking.http.manage import router as manage_router
from slotline.booking.http.policies import router as policies_router
from slotline.booking.http.request_key import router as request_key_router
from slotline.booking.http.staff_mfa import router as staff_mfa_router
from slotline.booking.http.terms_now import router as terms_router
from slotline.booking.http.waitlist import router as waitlist_router
from slotline.booking.links import InvalidManageLink, ManageLinks
from slotline.booking.live.board_feed import BoardFeed
from slotline.booking.live.projection import BookingBoard
from slotline.booking.live.watch import BookingWatch
from slotline.booking.messaging import publisher, subscriptions
from slotline.booking.messaging.change_proof import ChangeProof
from slotline.booking.messaging.day_views import parse_record
from slotline.booking.retention import RetentionJob
from slotline.booking.settings import BookingSettings
from slotline.booking.timeouts import SagaTimeoutJob
from slotline.events.auth import AuthSettings, TokenVerifier
from slotline.events.runtime import BackgroundTask, ServiceSpec
from slotline.events.unit_of_work import ContentionTooHigh


def manage_links(settings: BookingSettings) -> ManageLinks:
    return ManageLinks(settings.manage_link_secret.get_secret_value(), settings.public_base_url)


def service_spec(settings: BookingSettings | None = None) -> ServiceSpec[BookingApplication]:
    settings = settings or BookingSettings()
    links = manage_links(settings)
    verifier = TokenVerifier.from_settings(AuthSettings())

    def application(env: dict[str, str]) -> BookingApplication:
        return BookingApplication(
            env=env,
            hold_ttl=timedelta(seconds=settings.hold_ttl_seconds),
            timeouts=SagaTimeouts(
                answer_within=timedelta(seconds=settings.answer_within_seconds),
                pay_within=timedelta(seconds=settings.pay_within_seconds),
            ),
            offer_window=timedelta(seconds=settings.waitlist_offer_seconds),
        )

    def background(app: BookingApplication) -> Sequence[BackgroundTask]:
        return (
            BookingBoard(
                app,
                database_url=settings.database_url,
                batch_size=settings.board_batch_size,
                idle_poll_seconds=settings.relay_idle_poll_seconds,
                pace_seconds=settings.board_pace_seconds,
            ),
            BookingWatch(app, database_url=settings.database_url),
            BoardFeed(settings.database_url),
            SagaTimeoutJob(app, interval_seconds=settings.timeout_interval_seconds),
            RetentionJob(
                app,
                settings.retention_months,
                interval_seconds=settings.retention_interval_seconds,
            ),
        )

    return ServiceSpec(
        settings=settings,
        application_factory=application,
        publisher=lambda _: publisher(links),
        parser=parse_record,
        subscriptions=lambda app: subscriptions(
            app, ChangeProof(links, verifier), clear_requests=settings.clear_requests_accepted
        ),
        # the fixed paths (stream, search) before the routes whose {id} would take them
        routers=[
            board_stream_router,
            customer_search_router,
            bookings_router,
            manage_router,
            terms_router,
            policies_router,
            customers_router,
            catalog_router,
            request_key_router,
            waitlist_router,
            staff_mfa_router,
        ],
        title="Slotline booking",
        background=background,
        error_statuses={
            UnknownBooking: 404,
            NotInLine: 404,
            WaitlistRefused: 409,
            InvalidManageLink: 404,
            InvalidTransition: 409,
            IdempotencyKeyReused: 409,
            ContentionTooHigh: 503,
            InvalidContact: 422,
            CurrencyMismatch: 422,
            ValueError: 422,
        },
    )
