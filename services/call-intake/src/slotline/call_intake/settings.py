"""Settings of the call-intake service (``SLOTLINE_*`` environment variables)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, PositiveInt, SecretStr

from slotline.call_intake.intake_base import IntakePolicy
from slotline.events.limit_text import RateLimitText
from slotline.events.settings import BackgroundFetchWait, BackgroundInboxPace, ServiceSettings


class CallIntakeSettings(ServiceSettings):
    service_name: str = Field(default="call-intake", description="Name in logs, traces, metrics.")
    kafka_fetch_wait_busy_ms: BackgroundFetchWait
    inbox_pace_seconds: BackgroundInboxPace

    twilio_auth_token: SecretStr = Field(
        default=SecretStr("local-twilio-auth-token"),
        description="Auth token that keys X-Twilio-Signature (set the account's in production).",
    )
    public_base_url: str | None = Field(
        default=None,
        description="Scheme and host Twilio calls, e.g. https://calls.example.com; "
        "signatures are checked against it instead of the request's own URL.",
    )
    trust_forwarded_headers: bool = Field(
        default=False,
        description="Behind a TLS-terminating proxy: rebuild the URL Twilio signed from "
        "X-Forwarded-Proto and X-Forwarded-Host.",
    )
    whatsapp_app_secret: SecretStr = Field(
        default=SecretStr("local-whatsapp-app-secret"),
        description="App secret that keys X-Hub-Signature-256 on WhatsApp webhooks.",
    )
    whatsapp_verify_token: SecretStr = Field(
        default=SecretStr("local-whatsapp-verify-token"),
        description="Token Meta sends with the webhook verification GET (hub.verify_token).",
    )
    whatsapp_max_age_seconds: PositiveInt = Field(
        default=86_400,
        description="A WhatsApp message sent longer ago is stale: answered 200, not taken, "
        "logged and counted. A day covers Meta's redeliveries after an outage and matches "
        "WhatsApp's 24-hour window for free-form replies.",
    )

    text_back_window_minutes: PositiveInt = Field(
        default=20, description="A caller is texted back at most once in this window."
    )
    callback_sla_minutes: PositiveInt = Field(
        default=15, description="Time to call a missed caller back (a plan may override)."
    )
    escalation_warning_minutes: PositiveInt = Field(
        default=5, description="The manager is told this long before the deadline."
    )
    callback_retry_minutes: list[PositiveInt] = Field(
        default=[10, 60, 240],
        description="Waits before the 2nd, 3rd, … callback attempt; then the task gives up.",
    )
    sla_interval_seconds: float = Field(
        default=5.0, gt=0, description="How often the SLA job looks for due escalations."
    )
    landline_numbers: list[str] = Field(
        default_factory=list,
        description="Numbers the local line-type lookup reports as landlines.",
    )
    text_back_limit_per_number: RateLimitText = Field(
        default="3/hour",
        description="SMS-pumping guard: text-backs to one number of one tenant, every replica "
        "together (limits syntax; the per-caller window comes first).",
    )
    text_back_limit_per_tenant: RateLimitText = Field(
        default="200/hour",
        description="SMS-pumping guard: text-backs of one tenant, every replica together.",
    )
    projection_batch_size: PositiveInt = Field(default=500, description="Events per view batch.")
    feed_queue_size: PositiveInt = Field(
        default=256, description="Queue changes buffered per SSE client before it is dropped."
    )

    def policy(self) -> IntakePolicy:
        return IntakePolicy(
            text_back_window=timedelta(minutes=self.text_back_window_minutes),
            callback_sla=timedelta(minutes=self.callback_sla_minutes),
            warn_before=timedelta(minutes=self.escalation_warning_minutes),
            retry_after=tuple(timedelta(minutes=m) for m in self.callback_retry_minutes),
        )
