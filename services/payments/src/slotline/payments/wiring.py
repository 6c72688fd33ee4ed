"""Assembles the payments service from its parts (the one place that wires it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from slotline.events.runtime import BackgroundTask, ServiceSpec
from slotline.payments.application import PaymentsApplication, UnknownLedger
from slotline.payments.dispatch import AfterCall, GatewayDispatcher
from slotline.payments.domain.money import CurrencyMismatch
from slotline.payments.gateway.factory import build_gateway
from slotline.payments.gateway.port import Gateway, GatewayUnavailable, WebhookRejected
from slotline.payments.gateway.simulator.network import CardNetwork
from slotline.payments.gateway.simulator.webhooks import WebhookSender
from slotline.payments.http.intents import router as intents_router
from slotline.payments.http.ledgers import ledger_router
from slotline.payments.http.quotes import UnknownTier
from slotline.payments.http.quotes import router as quotes_router
from slotline.payments.http.receipt_links import receipt_links_router
from slotline.payments.http.receipts import UnknownReceipt
from slotline.payments.http.receipts import router as receipts_router
from slotline.payments.http.reconciliations import reconciliation_router
from slotline.payments.http.webhooks import UnknownGateway
from slotline.payments.http.webhooks import router as webhooks_router
from slotline.payments.messaging import publisher, subscriptions
from slotline.payments.reconciliation import Reconciler, ReconciliationJob
from slotline.payments.settings import PaymentsSettings


def reconciler(app: PaymentsApplication, settings: PaymentsSettings) -> Reconciler:
    return Reconciler(
        app,
        grace_seconds=settings.reconcile_grace_seconds,
        recent_events=settings.reconcile_recent_events,
        attempts=settings.gateway_attempts,
    )


def service_spec(
    settings: PaymentsSettings | None = None,
    *,
    gateway_factory: Callable[[], Gateway] | None = None,
    after_call: AfterCall | None = None,
) -> ServiceSpec[PaymentsApplication]:
    """The service; tests may wrap the gateway or act between a call and its record."""
    settings = settings or PaymentsSettings()
    make_gateway = gateway_factory or (lambda: build_gateway(settings))

    def background(application: PaymentsApplication) -> Sequence[BackgroundTask]:
        tasks: list[BackgroundTask] = [
            GatewayDispatcher(
                application,
                database_url=settings.database_url,
                attempts=settings.gateway_attempts,
                batch_size=settings.dispatch_batch_size,
                idle_poll_seconds=settings.relay_idle_poll_seconds,
                after_call=after_call,
            ),
            ReconciliationJob(
                reconciler(application, settings), settings.reconcile_interval_seconds
            ),
        ]
        network = getattr(application.gateway, "network", None)
        if isinstance(network, CardNetwork):
            tasks.append(
                WebhookSender(
                    network,
                    url=settings.webhook_url,
                    secret=settings.gateway_webhook_secret.get_secret_value(),
                    duplicate_rate=settings.simulator_webhook_duplicate_rate,
                    reorder=settings.simulator_webhook_reorder,
                )
            )
        return tasks

    return ServiceSpec(
        settings=settings,
        application_factory=lambda env: PaymentsApplication(env=env, gateway=make_gateway()),
        publisher=lambda _: publisher(settings.receipts_base_url),
        subscriptions=subscriptions,
        routers=[
            quotes_router,
            intents_router,
            ledger_router(settings),
            receipt_links_router(settings),
            receipts_router,
            webhooks_router,
            reconciliation_router(settings),
        ],
        title="Slotline payments",
        background=background,
        error_statuses={
            UnknownLedger: 404,
            UnknownTier: 404,
            UnknownReceipt: 404,
            UnknownGateway: 404,
            WebhookRejected: 400,
            GatewayUnavailable: 503,  # a webhook checked against the gateway: retried
            CurrencyMismatch: 422,
        },
    )
