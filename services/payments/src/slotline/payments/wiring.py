"""Assembles the payments service from its parts (the one place that wires it)."""

from slotline.events.runtime import ServiceSpec
from slotline.payments.application import PaymentsApplication
from slotline.payments.messaging import subscriptions, to_integration_event
from slotline.payments.settings import PaymentsSettings


def service_spec(settings: PaymentsSettings | None = None) -> ServiceSpec:
    return ServiceSpec(
        settings=settings or PaymentsSettings(),
        application_factory=lambda env: PaymentsApplication(env=env),
        integration_mapper=lambda _: to_integration_event,
        subscriptions=subscriptions,
        title="Slotline payments",
    )
