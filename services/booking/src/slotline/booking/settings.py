"""Settings of the booking service (``SLOTLINE_*`` environment variables)."""

from pydantic import Field

from slotline.events.settings import ServiceSettings


class BookingSettings(ServiceSettings):
    service_name: str = Field(default="booking", description="Name in logs, traces, metrics.")
