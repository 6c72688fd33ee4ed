"""The call-intake service's event-sourced application (its use cases arrive with its issue)."""

from typing import ClassVar

from slotline.events.store import ServiceApplication


class CallIntakeApplication(ServiceApplication):
    """Owns the call-intake event store and its tracking table."""

    name = "call_intake"
    env: ClassVar[dict[str, str]] = dict(ServiceApplication.env)
