"""Kafka side of the payments service: what it publishes and what it consumes."""

from collections.abc import Sequence
from typing import Any

from slotline.events.envelope import Message
from slotline.events.runtime import Subscription
from slotline.events.store import ServiceApplication


def to_integration_event(domain_event: Any) -> Message | None:
    """The public event a stored domain event publishes (none until the domain exists)."""
    return None


def subscriptions(application: ServiceApplication) -> Sequence[Subscription]:
    """Topics this service consumes, each with its exactly-once effect."""
    return ()
