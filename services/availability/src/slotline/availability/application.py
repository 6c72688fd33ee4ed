"""The availability service's event-sourced application (its use cases arrive with its issue)."""

from typing import ClassVar

from slotline.events.store import ServiceApplication


class AvailabilityApplication(ServiceApplication):
    """Owns the availability event store and its tracking table."""

    name = "availability"
    env: ClassVar[dict[str, str]] = dict(ServiceApplication.env)
