"""Assembles the notifier service from its parts (the one place that wires it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfoNotFoundError

from fastapi import APIRouter

from slotline.events.clock import utc_now
from slotline.events.outbound import AddressGuard, UnsafeUrl
from slotline.events.runtime import BackgroundTask, ServiceSpec
from slotline.events.sealing import SecretBox
from slotline.events.text_limits import TextLimits
from slotline.notifier.application import (
    Invalid,
    NotifierApplication,
    NotifierConfig,
    WebhookConfig,
    WebhookConflict,
    WebhookNotFound,
)
from slotline.notifier.application.core import WEBHOOK_SECRETS_DEVELOPMENT_KEY
from slotline.notifier.calendar_files import FeedTokens
from slotline.notifier.channel_setup import Channels, build_channels
from slotline.notifier.dispatcher import Dispatcher
from slotline.notifier.domain.preferences import TenantPreferences
from slotline.notifier.domain.reminders import parse_kinds
from slotline.notifier.domain.sending_window import SendingWindow
from slotline.notifier.domain.webhooks import PausePolicy, RetryPolicy
from slotline.notifier.http.feeds import feeds_router
from slotline.notifier.http.outbox import outbox_router
from slotline.notifier.http.preferences import router as preferences_router
from slotline.notifier.http.providers import providers_router
from slotline.notifier.http.webhooks import router as webhooks_router
from slotline.notifier.messaging import publisher, subscriptions
from slotline.notifier.persistence.tables import open_tables
from slotline.notifier.sending import Delivery
from slotline.notifier.settings import NotifierSettings
from slotline.notifier.webhooks.dispatcher import WebhookDispatcher
from slotline.notifier.webhooks.sender import WebhookHttp


def config_of(settings: NotifierSettings) -> NotifierConfig:
    defaults = TenantPreferences(
        reminder_kinds=parse_kinds(settings.reminders),
        window=SendingWindow(
            time.fromisoformat(settings.quiet_hours_end),
            time.fromisoformat(settings.quiet_hours_start),
        ).clamped(),
        business_name="Slotline",
        language=settings.default_language,
    )
    return NotifierConfig(
        defaults=defaults,
        default_zone=settings.default_time_zone,
        whatsapp_templates=dict(settings.whatsapp_templates),
        template_dir=settings.template_dir,
        webhooks=webhook_config(settings),
    )


def webhook_guard(settings: NotifierSettings) -> AddressGuard:
    """Where webhooks may go: public addresses, unless the operator allows private ones."""
    return AddressGuard(
        settings.webhook_allow_private_addresses, "SLOTLINE_WEBHOOK_ALLOW_PRIVATE_ADDRESSES"
    )


def webhook_config(settings: NotifierSettings) -> WebhookConfig:
    key = settings.webhook_secrets_key
    return WebhookConfig(
        retry=RetryPolicy(
            initial=timedelta(seconds=settings.webhook_retry_initial_seconds),
            longest=timedelta(seconds=settings.webhook_retry_longest_seconds),
            give_up_after=timedelta(seconds=settings.webhook_retry_for_seconds),
        ),
        pause=PausePolicy(
            failures=settings.webhook_pause_after_failures,
            failing_for=timedelta(seconds=settings.webhook_pause_after_seconds),
        ),
        secret_overlap=timedelta(seconds=settings.webhook_secret_overlap_seconds),
        log_kept=timedelta(days=settings.webhook_log_days),
        check_url=webhook_guard(settings).check,
        box=SecretBox(
            key.get_secret_value() if key else WEBHOOK_SECRETS_DEVELOPMENT_KEY, "webhook secrets"
        ),
    )


def service_spec(
    settings: NotifierSettings | None = None,
    *,
    clock: Callable[[], datetime] = utc_now,
    channels: Channels | None = None,
) -> ServiceSpec[NotifierApplication]:
    """The notifier; tests may pass a controllable ``clock`` and their own ``channels``."""
    settings = settings or NotifierSettings()
    config = config_of(settings)
    channels = channels or build_channels(settings)
    text_limits = TextLimits(
        settings.text_limit_per_number, settings.text_limit_per_tenant, name="texts"
    )

    def background(application: NotifierApplication) -> Sequence[BackgroundTask]:
        delivery = Delivery(
            channels.senders,
            application.templates,
            whatsapp_templates=config.whatsapp_templates or {},
            attempts=settings.send_attempts,
            initial_backoff_seconds=settings.send_retry_initial_seconds,
        )
        dispatcher = Dispatcher(
            application,
            delivery,
            interval_seconds=settings.dispatch_interval_seconds,
            batch_size=settings.dispatch_batch_size,
            concurrency=settings.send_concurrency,
            prompt_concurrency=settings.prompt_send_concurrency,
            interrupted_after_seconds=settings.interrupted_after_seconds,
            text_limits=text_limits,
        )
        webhook_sender = WebhookDispatcher(
            application,
            WebhookHttp(
                webhook_guard(settings),
                timeout_seconds=settings.webhook_timeout_seconds,
                max_response_bytes=settings.webhook_max_response_bytes,
                concurrency=settings.webhook_concurrency,
            ),
            concurrency=settings.webhook_concurrency,
            poll_seconds=settings.webhook_poll_seconds,
            reclaim_after_seconds=settings.webhook_reclaim_after_seconds,
        )
        return (channels, dispatcher, webhook_sender)

    routers: list[APIRouter] = [
        providers_router(settings.provider_auth_token.get_secret_value(), settings.public_url),
        feeds_router(
            FeedTokens(
                settings.feed_secret.get_secret_value(),
                timedelta(days=settings.feed_token_days),
            ),
            settings.public_url,
        ),
        preferences_router,
        webhooks_router,
    ]
    if channels.outbox is not None and settings.outbox_enabled:
        routers.append(outbox_router(channels.outbox))

    def application(env: dict[str, str]) -> NotifierApplication:
        """The notifier's store, with its tables made if missing."""
        app = NotifierApplication(env=env, config=config, clock=clock)
        open_tables(app)
        return app

    return ServiceSpec(
        settings=settings,
        application_factory=application,
        publisher=lambda _: publisher(),
        subscriptions=subscriptions,
        routers=routers,
        title="Slotline notifier",
        metrics=lambda _, registry: text_limits.attach(registry),
        background=background,
        error_statuses={
            Invalid: 422,
            ZoneInfoNotFoundError: 422,
            ValueError: 422,
            UnsafeUrl: 409,
            WebhookNotFound: 404,
            WebhookConflict: 409,
        },
    )
