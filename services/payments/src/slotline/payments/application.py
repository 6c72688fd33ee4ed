"""The payments service's event-sourced application (its use cases arrive with its issue)."""

from typing import ClassVar

from slotline.events.store import ServiceApplication


class PaymentsApplication(ServiceApplication):
    """Owns the payments event store and its tracking table."""

    name = "payments"
    env: ClassVar[dict[str, str]] = dict(ServiceApplication.env)
