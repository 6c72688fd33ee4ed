"""The notifier service's event-sourced application (its use cases arrive with its issue)."""

from typing import ClassVar

from slotline.events.store import ServiceApplication


class NotifierApplication(ServiceApplication):
    """Owns the notifier event store and its tracking table."""

    name = "notifier"
    env: ClassVar[dict[str, str]] = dict(ServiceApplication.env)
