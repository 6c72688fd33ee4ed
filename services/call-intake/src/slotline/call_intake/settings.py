"""Settings of the call-intake service (``SLOTLINE_*`` environment variables)."""

from pydantic import Field

from slotline.events.settings import ServiceSettings


class CallIntakeSettings(ServiceSettings):
    service_name: str = Field(default="call-intake", description="Name in logs, traces, metrics.")
