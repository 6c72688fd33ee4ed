"""Kafka topic names: the public, versioned streams Slotline services exchange."""

from typing import Final

AVAILABILITY_EVENTS: Final = "availability.events.v1"
AVAILABILITY_COMMANDS: Final = "availability.commands.v1"
BOOKING_REQUESTS: Final = "booking.requests.v1"
BOOKING_EVENTS: Final = "booking.events.v1"
PAYMENTS_EVENTS: Final = "payments.events.v1"
NOTIFICATIONS_EVENTS: Final = "notifications.events.v1"
CALLS_EVENTS: Final = "calls.events.v1"
AUDIT_EVENTS: Final = "audit.events.v1"

ALL_TOPICS: Final[tuple[str, ...]] = (
    AVAILABILITY_EVENTS,
    AVAILABILITY_COMMANDS,
    BOOKING_REQUESTS,
    BOOKING_EVENTS,
    PAYMENTS_EVENTS,
    NOTIFICATIONS_EVENTS,
    CALLS_EVENTS,
    AUDIT_EVENTS,
)

WRITTEN_OUTSIDE: Final[tuple[str, ...]] = (BOOKING_REQUESTS,)
"""Topics written by others than Slotline's relays (channel adapters): their messages are
known by ``event_id``, and the envelope fields a relay always sets may be missing."""


OUTBOX_DEAD_LETTERS: Final = "slotline.outbox.dlq"
"""Stored events a service's relay could not map, with the reason (keyed by aggregate)."""


def dead_letter_topic(topic: str) -> str:
    """The dead-letter topic that receives ``topic``'s poison messages."""
    return f"{topic}.dlq"


def all_topics_with_dead_letters() -> list[str]:
    """Every topic a deployment must create, dead-letter topics included."""
    topics = [t for topic in ALL_TOPICS for t in (topic, dead_letter_topic(topic))]
    return [*topics, OUTBOX_DEAD_LETTERS]
