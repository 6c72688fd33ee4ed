"""The booking service's event-sourced application (its use cases arrive with its issue)."""

from typing import ClassVar

from slotline.events.store import ServiceApplication


class BookingApplication(ServiceApplication):
    """Owns the booking event store and its tracking table."""

    name = "booking"
    env: ClassVar[dict[str, str]] = dict(ServiceApplication.env)
