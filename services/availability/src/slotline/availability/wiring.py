"""Assembles the availability service from its parts (the one place that wires it)."""

from slotline.availability.application import AvailabilityApplication
from slotline.availability.messaging import subscriptions, to_integration_event
from slotline.availability.settings import AvailabilitySettings
from slotline.events.runtime import ServiceSpec


def service_spec(settings: AvailabilitySettings | None = None) -> ServiceSpec:
    return ServiceSpec(
        settings=settings or AvailabilitySettings(),
        application_factory=lambda env: AvailabilityApplication(env=env),
        integration_mapper=to_integration_event,
        subscriptions=subscriptions,
        title="Slotline availability",
    )
