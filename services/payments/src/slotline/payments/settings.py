"""Settings of the payments service (``SLOTLINE_*`` environment variables)."""

from pydantic import Field

from slotline.events.settings import ServiceSettings


class PaymentsSettings(ServiceSettings):
    service_name: str = Field(default="payments", description="Name in logs, traces, metrics.")
