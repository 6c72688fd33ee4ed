"""Assembles the call-intake service from its parts (the one place that wires it)."""

from __future__ import annotations

from collections.abc import Sequence

from slotline.call_intake.application import CallIntakeApplication, UnknownItem
from slotline.call_intake.domain.callback import TaskRefused
from slotline.call_intake.domain.number_claim import NumberTaken
from slotline.call_intake.http.callbacks import router as callbacks_router
from slotline.call_intake.http.insight import router as insight_router
from slotline.call_intake.http.plan import router as plan_router
from slotline.call_intake.http.telephony import router as telephony_router
from slotline.call_intake.http.whatsapp import router as whatsapp_router
from slotline.call_intake.live.feed import QueueFeed
from slotline.call_intake.live.projection import IntakeProjection
from slotline.call_intake.messaging import publisher, subscriptions
from slotline.call_intake.settings import CallIntakeSettings
from slotline.call_intake.sla import SlaClock
from slotline.call_intake.telephony.lines import NumberingPlanLookup
from slotline.call_intake.text_back_limits import TextBackLimits
from slotline.events.runtime import BackgroundTask, ServiceSpec


def service_spec(settings: CallIntakeSettings | None = None) -> ServiceSpec[CallIntakeApplication]:
    settings = settings or CallIntakeSettings()

    limits = TextBackLimits(
        settings.text_back_limit_per_number, settings.text_back_limit_per_tenant
    )

    def application(env: dict[str, str]) -> CallIntakeApplication:
        return CallIntakeApplication(
            env=env,
            policy=settings.policy(),
            lines=NumberingPlanLookup(landlines=settings.landline_numbers),
            text_back_limits=limits,
        )

    def background(app: CallIntakeApplication) -> Sequence[BackgroundTask]:
        return (
            IntakeProjection(
                app,
                database_url=settings.database_url,
                batch_size=settings.projection_batch_size,
                idle_poll_seconds=settings.relay_idle_poll_seconds,
            ),
            SlaClock(app, interval_seconds=settings.sla_interval_seconds),
            QueueFeed(settings.database_url, settings.feed_queue_size),
        )

    return ServiceSpec(
        settings=settings,
        application_factory=application,
        publisher=lambda _: publisher(),
        subscriptions=subscriptions,
        routers=[
            telephony_router,
            whatsapp_router,
            callbacks_router,
            insight_router,
            plan_router,
        ],
        title="Slotline call-intake",
        background=background,
        error_statuses={UnknownItem: 404, TaskRefused: 409, NumberTaken: 409},
        metrics=lambda _, registry: limits.attach(registry),
    )
