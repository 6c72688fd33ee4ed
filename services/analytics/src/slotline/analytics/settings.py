"""Settings of the analytics service (``SLOTLINE_*`` environment variables)."""

from pydantic import Field

from slotline.events.settings import BackgroundFetchWait, BackgroundInboxPace, ServiceSettings


class AnalyticsSettings(ServiceSettings):
    service_name: str = Field(default="analytics", description="Name in logs, traces, metrics.")
    kafka_fetch_wait_busy_ms: BackgroundFetchWait
    inbox_pace_seconds: BackgroundInboxPace
    http_port: int = Field(default=8106, ge=0, le=65535, description="HTTP port (0 = any).")
    max_report_days: int = Field(
        default=366, ge=1, description="Longest period one KPI report may cover, in days."
    )
    default_report_days: int = Field(
        default=30, ge=1, description="Period reported when no 'from' is given, in days."
    )
