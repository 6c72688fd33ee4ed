"""Settings of the notifier service (``SLOTLINE_*`` environment variables)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, PositiveInt, SecretStr

from slotline.events.settings import ServiceSettings


class NotifierSettings(ServiceSettings):
    service_name: str = Field(default="notifier", description="Name in logs, traces, metrics.")

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
        default=SecretStr("local-feed-secret"), description="Signs the staff calendar feed tokens."
    )
    outbox_size: PositiveInt = Field(default=1000, description="Messages kept for GET /outbox.")
    outbox_enabled: bool = Field(
        default=False,
        description="Serve GET /outbox (the local channels' messages, every tenant's) to a "
        "manager's token: for make run only, never in production.",
    )

    def production_refusals(self) -> list[str]:
        reasons = []
        if not self.smtp_host:
            reasons.append("SLOTLINE_SMTP_HOST is not set: e-mail would go to the local sink")
        if not self.provider_url:
            reasons.append("SLOTLINE_PROVIDER_URL is not set: texts would go to the local outbox")
        if self.outbox_enabled:
            reasons.append("SLOTLINE_OUTBOX_ENABLED shows every tenant's messages: turn it off")
        return reasons
