"""Assembles the call-intake service from its parts (the one place that wires it)."""

from slotline.call_intake.application import CallIntakeApplication
from slotline.call_intake.messaging import subscriptions, to_integration_event
from slotline.call_intake.settings import CallIntakeSettings
from slotline.events.runtime import ServiceSpec


def service_spec(settings: CallIntakeSettings | None = None) -> ServiceSpec:
    return ServiceSpec(
        settings=settings or CallIntakeSettings(),
        application_factory=lambda env: CallIntakeApplication(env=env),
        integration_mapper=lambda _: to_integration_event,
        subscriptions=subscriptions,
        title="Slotline call-intake",
    )
