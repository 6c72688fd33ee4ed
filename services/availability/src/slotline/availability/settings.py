"""Settings of the availability service (``SLOTLINE_*`` environment variables)."""

from typing import Literal

from pydantic import Field, PositiveInt

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
