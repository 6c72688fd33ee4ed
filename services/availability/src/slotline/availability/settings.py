"""Settings of the availability service (``SLOTLINE_*`` environment variables)."""

from typing import Literal

from pydantic import Field, PositiveInt, SecretStr

from slotline.events.settings import ServiceSettings


class AvailabilitySettings(ServiceSettings):
    service_name: str = Field(default="availability", description="Name in logs, traces, metrics.")
    limited_threshold: PositiveInt = Field(
        default=2, description="A slot with fewer bookings (or seats) left than this is 'limited'."
    )
    expiry_interval_seconds: float = Field(
        default=1.0, gt=0, description="How often lapsed holds are looked for and expired."
    )
    expiry_batch_size: PositiveInt = Field(default=200, description="Holds expired per sweep.")
    projection_batch_size: PositiveInt = Field(
        default=1000, description="Events the slot projection applies per transaction."
    )
    horizon_roll_seconds: float = Field(
        default=900.0, gt=0, description="How often days entering the booking horizon are added."
    )
    feed_queue_size: PositiveInt = Field(
        default=256, description="Slot changes buffered per SSE client before it is dropped."
    )
    availability_role: Literal["all", "api", "projector"] = Field(
        default="all",
        description=(
            "all: one process does everything. api: HTTP, hold commands, expiry, relay and"
            " the slot feed, but no slot view. projector: only the slot view (leader-elected),"
            " so recomputing days never holds the GIL against holds; run api + projector."
        ),
    )
    seed_demo: bool = Field(
        default=False, description="Register a demo clinic on start when the store is empty."
    )
    calendar_credentials_key: SecretStr | None = Field(
        default=None,
        description=(
            "Base64 AES-GCM key (16, 24 or 32 bytes) sealing calendar passwords; unset: the"
            " published development key (refused in production)."
        ),
    )
    calendar_sync_interval_seconds: float = Field(
        default=30.0,
        gt=0,
        le=60,
        description="How often each linked calendar is read for changes (the pull lag's bound).",
    )
    calendar_push_interval_seconds: float = Field(
        default=1.0, gt=0, description="How often bookings owed to calendars are written."
    )
    calendar_retry_ceiling_seconds: float = Field(
        default=900.0, gt=0, description="Longest wait between attempts of a failing sync."
    )
    calendar_window_days: PositiveInt = Field(
        default=90, description="How far ahead a calendar's (recurring) busy times are read."
    )
    calendar_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Timeout of one request to a calendar server."
    )
    calendar_allow_private_addresses: bool = Field(
        default=False,
        description=(
            "Let calendar links reach loopback, private and link-local addresses (a CalDAV"
            " server on the local network; tests). Off: public addresses only (SSRF guard)."
        ),
    )
    calendar_sync_batch_size: PositiveInt = Field(
        default=20, description="Links (or bookings to write) taken per sweep."
    )
    calendar_google_client_id: str | None = Field(
        default=None,
        description=(
            "The operator's Google OAuth client id: gets Google links' access tokens with"
            " their refresh tokens. Unset: Google links cannot sync (their error says so)."
        ),
    )
    calendar_google_client_secret: SecretStr | None = Field(
        default=None, description="That Google OAuth client's secret."
    )
    calendar_microsoft_client_id: str | None = Field(
        default=None,
        description=(
            "The operator's Microsoft Entra application (client) id: gets Microsoft 365"
            " links' access tokens with their refresh tokens. Unset: Microsoft links cannot"
            " sync (their error says so)."
        ),
    )
    calendar_microsoft_client_secret: SecretStr | None = Field(
        default=None, description="That Microsoft application's client secret."
    )
    calendar_microsoft_tenant: str = Field(
        default="common",
        pattern=r"^[A-Za-z0-9.-]+$",
        description=(
            "The Microsoft identity platform tenant of the token endpoint: common (a"
            " multi-tenant application), organizations, or one directory's id or domain."
        ),
    )

    def production_refusals(self) -> list[str]:
        if self.calendar_credentials_key is None:
            return [
                "SLOTLINE_CALENDAR_CREDENTIALS_KEY is not set: calendar passwords would be"
                " sealed with the published development key"
            ]
        return []
