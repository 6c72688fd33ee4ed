"""Settings of the payments service (``SLOTLINE_*`` environment variables)."""

from typing import Literal

from pydantic import Field, PositiveInt, SecretStr

from slotline.events.settings import ServiceSettings


class PaymentsSettings(ServiceSettings):
    service_name: str = Field(default="payments", description="Name in logs, traces, metrics.")

    gateway: Literal["simulated", "stripe"] = Field(
        default="simulated", description="The payment gateway: the local simulator or Stripe."
    )
    gateway_webhook_secret: SecretStr = Field(
        default=SecretStr("whsec_slotline_local_simulator"),
        description="Webhook endpoint secret: signatures are verified with it.",
    )
    gateway_timeout_seconds: float = Field(
        default=10.0, gt=0, description="How long a gateway call may take before it times out."
    )
    gateway_attempts: PositiveInt = Field(
        default=3, description="Calls per operation (same idempotency key) before giving up."
    )
    stripe_api_key: SecretStr | None = Field(default=None, description="Stripe secret key.")
    stripe_api_base: str = Field(
        default="https://api.stripe.com", description="Stripe API base URL (tests point it home)."
    )
    simulator_database_url: str | None = Field(
        default=None, description="Where the simulated network keeps its state (default: ours)."
    )
    simulator_schema: str = Field(default="card_network", description="Its schema.")
    simulator_webhook_url: str | None = Field(
        default=None, description="Where it sends webhooks (default: this service's endpoint)."
    )
    simulator_webhook_delay_seconds: float = Field(
        default=0.5, ge=0, description="How late its webhooks arrive."
    )
    simulator_webhook_duplicate_rate: float = Field(
        default=0.2, ge=0, le=1, description="Share of webhooks delivered twice."
    )
    simulator_webhook_reorder: bool = Field(
        default=True, description="Deliver each round of webhooks in shuffled order."
    )
    simulator_latency_ms: int = Field(
        default=0, ge=0, description="Added to every simulated network call."
    )
    public_base_url: str | None = Field(
        default=None,
        description="Base of receipt links (default: http://127.0.0.1:<http_port>).",
    )
    dispatch_batch_size: PositiveInt = Field(
        default=100, description="Log events the gateway dispatcher reads per batch."
    )
    reconcile_interval_seconds: float = Field(
        default=300.0, gt=0, description="How often the reconciliation job runs."
    )
    reconcile_grace_seconds: float = Field(
        default=60.0, ge=0, description="A call pending this long is made again by reconciliation."
    )
    reconcile_recent_events: PositiveInt = Field(
        default=100_000, description="Ledgers touched by the store's latest N events are checked."
    )

    @property
    def receipts_base_url(self) -> str:
        return self.public_base_url or f"http://127.0.0.1:{self.http_port}"

    @property
    def webhook_url(self) -> str:
        return (
            self.simulator_webhook_url or f"http://127.0.0.1:{self.http_port}/v1/webhooks/simulated"
        )

    def production_refusals(self) -> list[str]:
        if self.gateway == "simulated":
            return ["SLOTLINE_GATEWAY is the card-network simulator: set it to stripe"]
        if self.stripe_api_key is None:
            return ["SLOTLINE_STRIPE_API_KEY is not set"]
        return []
