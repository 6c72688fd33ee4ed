"""The gateway the settings ask for."""

from __future__ import annotations

from slotline.payments.gateway.port import Gateway
from slotline.payments.gateway.simulated import SimulatedGateway
from slotline.payments.gateway.simulator.network import CardNetwork
from slotline.payments.gateway.stripe_gateway import StripeGateway
from slotline.payments.settings import PaymentsSettings


def build_gateway(settings: PaymentsSettings) -> Gateway:
    secret = settings.gateway_webhook_secret.get_secret_value()
    if settings.gateway == "stripe":
        if settings.stripe_api_key is None:
            raise ValueError("SLOTLINE_GATEWAY=stripe needs SLOTLINE_STRIPE_API_KEY")
        return StripeGateway(
            settings.stripe_api_key.get_secret_value(),
            webhook_secret=secret,
            api_base=settings.stripe_api_base,
            timeout_seconds=settings.gateway_timeout_seconds,
        )
    network = CardNetwork(
        settings.simulator_database_url or settings.database_url,
        settings.simulator_schema,
        timeout_seconds=settings.gateway_timeout_seconds,
        webhook_delay_seconds=settings.simulator_webhook_delay_seconds,
        latency_seconds=settings.simulator_latency_ms / 1000,
    )
    return SimulatedGateway(network, secret)
