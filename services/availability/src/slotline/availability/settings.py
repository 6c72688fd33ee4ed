"""Settings of the availability service (``SLOTLINE_*`` environment variables)."""

from pydantic import Field

from slotline.events.settings import ServiceSettings


class AvailabilitySettings(ServiceSettings):
    service_name: str = Field(default="availability", description="Name in logs, traces, metrics.")
