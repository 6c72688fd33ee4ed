"""Assembles the booking service from its parts (the one place that wires it)."""

from slotline.booking.application import BookingApplication
from slotline.booking.messaging import subscriptions, to_integration_event
from slotline.booking.settings import BookingSettings
from slotline.events.runtime import ServiceSpec


def service_spec(settings: BookingSettings | None = None) -> ServiceSpec:
    return ServiceSpec(
        settings=settings or BookingSettings(),
        application_factory=lambda env: BookingApplication(env=env),
        integration_mapper=lambda _: to_integration_event,
        subscriptions=subscriptions,
        title="Slotline booking",
    )
