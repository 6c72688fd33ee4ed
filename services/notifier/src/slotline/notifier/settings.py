"""Settings of the notifier service (``SLOTLINE_*`` environment variables)."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import Field, PositiveInt, SecretStr, model_validator

from slotline.events.limit_text import RateLimitText
from slotline.events.settings import BackgroundFetchWait, ServiceSettings


class NotifierSettings(ServiceSettings):
    service_name: str = Field(default="notifier", description="Name in logs, traces, metrics.")
    kafka_fetch_wait_busy_ms: BackgroundFetchWait

    # --- e-mail ---
    smtp_host: str | None = Field(
        default=None,
        description="SMTP server; unset = start a local sink whose mail shows in GET /outbox.",
    )
    smtp_port: int = Field(
        default=25, ge=0, le=65535, description="SMTP port (local sink: 0 = any)."
    )
    smtp_username: str | None = Field(default=None, description="SMTP login, if required.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_start_tls: bool | None = Field(default=None, description="STARTTLS (None = if offered).")
    mail_from: str = Field(
        default="Slotline <no-reply@slotline.local>", description="From: of every e-mail."
    )

    # --- SMS and WhatsApp ---
    provider_url: str | None = Field(
        default=None,
        description="Twilio-compatible API base URL; unset = the local provider (GET /outbox).",
    )
    provider_account_sid: str = Field(default="AC_local", description="Provider account id.")
    provider_auth_token: SecretStr = Field(
        default=SecretStr("local-auth-token"),
        description="Provider auth token; also verifies X-Twilio-Signature on webhooks.",
    )
    sms_from: str = Field(default="+15005550006", description="Default sender number.")
    public_url: str = Field(
        default="http://127.0.0.1:8104",
        description="This service's public base URL (webhook signatures, feed links).",
    )
    whatsapp_templates: dict[str, str] = Field(
        default_factory=lambda: {
            "booking_confirmed": "HXslotline_booking_confirmed",
            "booking_reminder": "HXslotline_booking_reminder",
            "booking_rescheduled": "HXslotline_booking_rescheduled",
            "booking_cancelled": "HXslotline_booking_cancelled",
            "text_back": "HXslotline_text_back",
        },
        description="Approved WhatsApp template (ContentSid) per template, used outside "
        "the 24-hour customer window (JSON object).",
    )

    # --- sending ---
    send_attempts: PositiveInt = Field(
        default=4, description="Attempts per channel on transient failures (tenacity)."
    )
    send_retry_initial_seconds: float = Field(
        default=0.5, gt=0, description="First backoff between attempts; doubles each time."
    )
    send_concurrency: PositiveInt = Field(
        default=200, description="Reminders (the bulk lane) being sent at once."
    )
    prompt_send_concurrency: PositiveInt = Field(
        default=50,
        description="Text-backs, confirmations and other prompt-lane messages being sent at "
        "once, apart from the reminders: they never wait for a reminder's slot.",
    )
    dispatch_interval_seconds: float = Field(
        default=1.0, gt=0, description="How often due messages are looked for (also woken)."
    )
    dispatch_batch_size: PositiveInt = Field(
        default=500, description="Messages a lane claims at once (one query)."
    )
    text_limit_per_number: RateLimitText = Field(
        default="12/day",
        description="SMS-pumping guard: texts (SMS or WhatsApp: confirmations, reminders, "
        "notices) to one number of one tenant, every replica together (limits syntax). "
        "Over it a message goes by e-mail if it has one, else is withheld with the reason.",
    )
    text_limit_per_tenant: RateLimitText = Field(
        default="3000/hour",
        description="SMS-pumping guard: texts of one tenant, every replica together.",
    )
    interrupted_after_seconds: float = Field(
        default=300.0,
        gt=0,
        description="A claim this old died mid-send (another replica, or this process "
        "before a restart): reported failed, never resent; looked for every half of it.",
    )

    # --- defaults a tenant may override (PUT /preferences) ---
    reminders: str = Field(default="24h,1h", description="Reminder kinds, e.g. 24h,1h,30m.")
    quiet_hours_start: str = Field(default="21:00", description="No non-urgent texts from …")
    quiet_hours_end: str = Field(default="08:00", description="… until (recipient local time).")
    default_time_zone: str = Field(default="UTC", description="When no other zone is known.")
    default_language: str = Field(default="en", description="Template language by default.")
    template_dir: Path | None = Field(
        default=None, description="Tenant template overrides: <dir>/<tenant>/<lang>/<name>.*"
    )
    feed_secret: SecretStr = Field(
        default=SecretStr("local-feed-secret-for-development-only"),
        description="Signs the calendar feed tokens (HS256); changing it revokes every feed URL.",
    )
    feed_token_days: PositiveInt = Field(
        default=365, description="A feed URL works this many days after it was given out."
    )
    feed_rate_limit: RateLimitText = Field(
        default="120/minute",
        description="Calendar feed requests per client address and tenant, every replica "
        "together (limits syntax).",
    )
    outbox_size: PositiveInt = Field(default=1000, description="Messages kept for GET /outbox.")
    outbox_enabled: bool = Field(
        default=False,
        description="Serve GET /outbox (the local channels' messages, every tenant's) to a "
        "manager's token: for make run only, never in production.",
    )

    # --- outbound webhooks ---
    webhook_allow_private_addresses: bool = Field(
        default=False,
        description="Let webhooks reach loopback, private and link-local addresses (a "
        "receiver on the local network; tests). Off: only public addresses (SSRF guard).",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, le=60, description="An attempt's whole time: resolve, connect, answer."
    )
    webhook_max_response_bytes: PositiveInt = Field(
        default=65536, description="At most this much of a receiver's answer is read."
    )
    webhook_retry_initial_seconds: float = Field(
        default=5.0, gt=0, description="First wait after a failed attempt; doubles each time."
    )
    webhook_retry_longest_seconds: float = Field(
        default=21600.0, gt=0, description="The longest wait between two attempts (6 h)."
    )
    webhook_retry_for_seconds: float = Field(
        default=259200.0,
        gt=0,
        description="A delivery is retried this long (3 days), then it has failed.",
    )
    webhook_pause_after_failures: PositiveInt = Field(
        default=10, description="An endpoint is paused after this many failed attempts in a row …"
    )
    webhook_pause_after_seconds: float = Field(
        default=259200.0,
        ge=0,
        description="… failing for at least this long (3 days); its owner contact is told.",
    )
    webhook_secrets_key: SecretStr | None = Field(
        default=None,
        description=(
            "Base64 AES-GCM key (16, 24 or 32 bytes) sealing webhook signing secrets at"
            " rest; unset: the published development key (refused in production)."
        ),
    )
    webhook_secret_overlap_seconds: float = Field(
        default=86400.0,
        ge=0,
        description="A rotated-out secret keeps signing (beside the new one) this long.",
    )
    webhook_log_days: PositiveInt = Field(
        default=30,
        le=3650,
        description="Ended webhook deliveries (delivered, failed, cancelled) and their "
        "attempts are deleted this many days after they ended: their bodies hold the "
        "customers' contact.",
    )
    webhook_concurrency: PositiveInt = Field(
        default=50, description="Webhook attempts in flight at once per process."
    )
    webhook_poll_seconds: float = Field(
        default=1.0, gt=0, description="How often due retries are looked for (also woken)."
    )
    webhook_reclaim_after_seconds: float = Field(
        default=60.0,
        gt=0,
        description="A delivery claimed this long ago died mid-send: it is sent again (same "
        "webhook-id). Longer than SLOTLINE_WEBHOOK_TIMEOUT_SECONDS.",
    )

    @model_validator(mode="after")
    def _reclaim_after_any_attempt(self) -> Self:
        if self.webhook_reclaim_after_seconds <= self.webhook_timeout_seconds:
            raise ValueError(
                "SLOTLINE_WEBHOOK_RECLAIM_AFTER_SECONDS must be longer than "
                "SLOTLINE_WEBHOOK_TIMEOUT_SECONDS (an attempt still running is not reclaimed)"
            )
        return self

    def production_refusals(self) -> list[str]:
        reasons = []
        if not self.smtp_host:
            reasons.append("SLOTLINE_SMTP_HOST is not set: e-mail would go to the local sink")
        if not self.provider_url:
            reasons.append("SLOTLINE_PROVIDER_URL is not set: texts would go to the local outbox")
        if self.outbox_enabled:
            reasons.append("SLOTLINE_OUTBOX_ENABLED shows every tenant's messages: turn it off")
        if self.webhook_secrets_key is None:
            reasons.append(
                "SLOTLINE_WEBHOOK_SECRETS_KEY is not set: webhook signing secrets would be"
                " sealed with the published development key"
            )
        return reasons
