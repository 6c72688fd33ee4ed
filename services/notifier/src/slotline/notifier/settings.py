"""Settings of the notifier service (``SLOTLINE_*`` environment variables)."""

from pydantic import Field

from slotline.events.settings import ServiceSettings


class NotifierSettings(ServiceSettings):
    service_name: str = Field(default="notifier", description="Name in logs, traces, metrics.")
