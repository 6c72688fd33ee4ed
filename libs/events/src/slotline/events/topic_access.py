"""Which topics each Kafka user may write and read: the least each one needs.

The broker's ACLs (Strimzi ``KafkaUser`` resources in
``deploy/k8s/components/kafka-users``) are written from this table, and a test keeps the
two equal. Each service writes its own events (and the audit trail, and dead letters of
what it consumes); only channel adapters write ``booking.requests.v1``.
"""

from __future__ import annotations

from dataclasses import dataclass

from slotline.events.topics import (
    AUDIT_EVENTS,
    AVAILABILITY_COMMANDS,
    AVAILABILITY_EVENTS,
    BOOKING_EVENTS,
    BOOKING_REQUESTS,
    CALLS_EVENTS,
    NOTIFICATIONS_EVENTS,
    OUTBOX_DEAD_LETTERS,
    PAYMENTS_EVENTS,
    dead_letter_topic,
)


@dataclass(frozen=True)
class TopicAccess:
    """What one Kafka user does: the topics it produces to and consumes from."""

    produces: frozenset[str]
    consumes: frozenset[str]
    group_prefix: str
    """The consumer groups it may join (their names start with this)."""
    is_service: bool = True

    @property
    def writes(self) -> frozenset[str]:
        """Produced topics plus, for a service, its dead letters and its outbox's."""
        if not self.is_service:
            return self.produces
        letters = {dead_letter_topic(topic) for topic in self.consumes}
        return self.produces | letters | {AUDIT_EVENTS, OUTBOX_DEAD_LETTERS}


def _service(name: str, produces: set[str], consumes: set[str]) -> TopicAccess:
    return TopicAccess(frozenset(produces), frozenset(consumes), f"slotline-{name}")


SERVICE_TOPICS: dict[str, TopicAccess] = {
    "availability": _service(
        "availability", {AVAILABILITY_EVENTS}, {AVAILABILITY_COMMANDS, BOOKING_EVENTS}
    ),
    "booking": _service(
        "booking",
        {BOOKING_EVENTS, AVAILABILITY_COMMANDS},
        {
            AVAILABILITY_EVENTS,
            BOOKING_REQUESTS,
            PAYMENTS_EVENTS,
            CALLS_EVENTS,
            NOTIFICATIONS_EVENTS,
        },
    ),
    "payments": _service("payments", {PAYMENTS_EVENTS}, {BOOKING_EVENTS}),
    "notifier": _service(
        "notifier",
        {NOTIFICATIONS_EVENTS},
        {BOOKING_EVENTS, PAYMENTS_EVENTS, NOTIFICATIONS_EVENTS, CALLS_EVENTS},
    ),
    "call-intake": _service("call-intake", {CALLS_EVENTS}, {BOOKING_EVENTS, NOTIFICATIONS_EVENTS}),
    "analytics": _service(
        "analytics",
        set(),
        {BOOKING_REQUESTS, BOOKING_EVENTS, CALLS_EVENTS, NOTIFICATIONS_EVENTS},
    ),
}
"""Each service's Kafka user (named ``slotline-<service>``)."""

CHANNEL_ADAPTER = TopicAccess(
    produces=frozenset({BOOKING_REQUESTS}),
    consumes=frozenset({BOOKING_EVENTS}),
    group_prefix="channel-",
    is_service=False,
)
"""A channel adapter (partner app, kiosk, bot): submits requests, reads their answers."""


class UndeclaredRead(RuntimeError):
    """A service subscribes to a topic its Kafka user may not read in production."""


def check_reads(service: str, topics: set[str]) -> None:
    """At start-up: a service (one this table knows) consumes only what its ACLs allow,
    so a new subscription fails every test run until the table, and with it the
    ``KafkaUser``, says so — not the first production deploy."""
    access = SERVICE_TOPICS.get(service)
    undeclared = topics - access.consumes if access is not None else set()
    if undeclared:
        raise UndeclaredRead(
            f"{service} subscribes to {sorted(undeclared)}, which its Kafka user may not "
            "read: add them to slotline.events.topic_access (and the KafkaUser)"
        )
