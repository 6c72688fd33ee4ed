"""Settings of the web service (``SLOTLINE_*`` environment variables).

The web service keeps no state of its own: it needs the other services' URLs, the
secret that signs its session cookies, and a way to act as the booking channel of
each tenant (it mints short-lived ``channel`` tokens with the shared HS256 secret, or
uses the tokens an identity provider issued, ``SLOTLINE_WEB_CHANNEL_TOKENS``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, PositiveFloat, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from slotline.events.limit_text import RateLimitText
from slotline.events.production import PRODUCTION

DEV_SESSION_SECRET = "slotline-web-dev-session-secret-change-me"  # noqa: S105


class WebSettings(BaseSettings):
    """One web process; the services it talks to are reached over their HTTP APIs."""

    model_config = SettingsConfigDict(env_prefix="SLOTLINE_", extra="ignore")

    service_name: str = Field(default="web", description="Name in logs, traces, metrics.")
    environment: str = Field(default="local", description="local, dev, production.")
    http_host: str = Field(default="127.0.0.1", description="Interface the HTTP server binds.")
    http_port: int = Field(default=8100, ge=0, le=65535, description="HTTP port (0 = any).")
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING, ERROR.")
    log_json: bool = Field(default=True, description="JSON lines (true) or console (false).")
    otel_exporter_endpoint: str | None = Field(default=None, description="OTLP/HTTP endpoint.")
    graceful_timeout_seconds: float = Field(default=20.0, gt=0, description="Shutdown grace.")
    http_keep_alive_seconds: int = Field(
        default=75, gt=0, description="How long an idle client connection stays open."
    )

    web_public_url: str = Field(
        default="http://127.0.0.1:8100", description="How customers reach this service."
    )
    web_availability_url: str = Field(default="http://127.0.0.1:8101", description="Availability.")
    web_booking_url: str = Field(default="http://127.0.0.1:8102", description="Booking.")
    web_payments_url: str = Field(default="http://127.0.0.1:8103", description="Payments.")
    web_call_intake_url: str = Field(default="http://127.0.0.1:8105", description="Call intake.")
    web_analytics_url: str = Field(
        default="http://127.0.0.1:8106", description="Analytics, as staff browsers reach it."
    )
    web_upstream_timeout_seconds: PositiveFloat = Field(
        default=15.0, description="Longest wait for another service's answer."
    )
    web_session_secret: SecretStr = Field(
        default=SecretStr(DEV_SESSION_SECRET), description="Signs console session cookies."
    )
    web_session_hours: int = Field(default=12, ge=1, le=24 * 7, description="Console session.")
    web_secure_cookies: bool = Field(
        default=False, description="Send cookies over HTTPS only (true behind TLS)."
    )
    web_channel_tokens: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="JSON {tenant: channel token}; else tokens are minted with the auth secret.",
    )
    web_brands_dir: Path | None = Field(
        default=None, description="Folder of <tenant>.json brands (name, colours, logo)."
    )
    web_payment_form: Literal["simulated"] = Field(
        default="simulated", description="How a deposit is taken: the simulated gateway's form."
    )
    web_stripe_publishable_key: str | None = Field(
        default=None,
        pattern=r"^pk_(test|live)_[A-Za-z0-9]+$",
        description="Stripe publishable key: the payment step mounts Stripe's Payment Element "
        "(Stripe.js from js.stripe.com); unset: the simulated gateway's form.",
    )
    web_booking_rate_limit: RateLimitText = Field(
        default="20/minute", description="Booking submissions per client address (limits syntax)."
    )
    web_trust_forwarded_for: bool = Field(
        default=False, description="Behind a proxy: the client address from X-Forwarded-For."
    )
    web_slot_days: int = Field(default=14, ge=1, le=60, description="Days the calendar shows.")

    def check_production(self) -> None:
        """Refuse to run in production on a published secret or with cookies over HTTP."""
        if self.environment.lower() not in PRODUCTION:  # the prod overlay says "prod"
            return
        if self.web_session_secret.get_secret_value() == DEV_SESSION_SECRET:
            raise RuntimeError("set SLOTLINE_WEB_SESSION_SECRET: the default is published")
        if not self.web_secure_cookies:
            raise RuntimeError(
                "set SLOTLINE_WEB_SECURE_COOKIES=true: production is served over TLS"
            )
