"""Assembles the notifier service from its parts (the one place that wires it)."""

from slotline.events.runtime import ServiceSpec
from slotline.notifier.application import NotifierApplication
from slotline.notifier.messaging import subscriptions, to_integration_event
from slotline.notifier.settings import NotifierSettings


def service_spec(settings: NotifierSettings | None = None) -> ServiceSpec:
    return ServiceSpec(
        settings=settings or NotifierSettings(),
        application_factory=lambda env: NotifierApplication(env=env),
        integration_mapper=lambda _: to_integration_event,
        subscriptions=subscriptions,
        title="Slotline notifier",
    )
