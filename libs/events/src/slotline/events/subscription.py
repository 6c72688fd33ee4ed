"""What a service does with a topic: its handlers, how it knows a message it applied
before, how it answers one it refuses, and what a batch should load first.

The vocabulary of :mod:`slotline.events.inbox`, kept apart so services can declare
their subscriptions without the consumer's machinery.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking

from slotline.events.envelope import Message
from slotline.events.unit_of_work import UnitOfWork

Parser = Callable[[str, bytes], Message]
"""Decodes and validates a record of a topic; raises ``ContractViolation`` when it can't."""

Announced = Callable[[str, Sequence[tuple[str, bytes]]], "type[Message] | None"]
"""The message class a record's headers name on a topic, or None: read before decoding,
so a message no handler takes is passed by undecoded."""

Handler = Callable[[Any, UnitOfWork], None]
"""Applies one message inside the batch's unit of work (runs in a worker thread)."""

Refusal = Callable[[Any, "Rejected", UnitOfWork], None]
"""Answers a message its handler refused, inside the unit of work that records the
message as applied: a typed answer to the sender instead of a dead letter."""

Reads = Callable[[Any], Iterable[UUID]]
"""The aggregates a handler will look at for a message: a batch loads all of them in
one query before its handlers run, instead of one round trip per lookup."""


class Rejected(Exception):
    # A verdict on a message, named as the dead letter says it.
    """Raised by a handler for a message that can never succeed: dead-letter it now."""


class Identity(enum.Enum):
    """How the inbox recognises a message it has applied before."""

    STREAM = "stream"
    """By source stream and ``sequence``: messages a Slotline relay published."""
    MESSAGE = "message"
    """By ``event_id``: messages written outside Slotline (channel requests)."""


@dataclass(frozen=True)
class Subscription:
    """What a service does with one topic: a handler per message class, applied in the
    batch's unit of work (others are acknowledged without a database round trip)."""

    topic: str
    handlers: Mapping[type[Message], Handler] = field(default_factory=dict)
    identity: Identity = Identity.STREAM
    refused: Refusal | None = None
    """How a refused message (its handler raised :class:`Rejected`) is
    answered; None: it is dead-lettered with the reason."""
    reads: Reads | None = None
    """The aggregates each message's handler reads (prefetched)."""

    def handler_for(self, message: Message) -> Handler | None:
        return self.handler_of(type(message))

    def handler_of(self, message_class: type[Message]) -> Handler | None:
        """The handler of the closest class in ``message_class``'s MRO (a newer version
        subclasses the one it replaces; ``Message`` takes every message)."""
        for cls in message_class.__mro__:
            handler = self.handlers.get(cls)
            if handler is not None:
                return handler
        return None


def tracking_for(consumer: str, topic: str, message: Message, identity: Identity) -> Tracking:
    """Positions are kept per source: tenant and aggregate (stream), or the message."""
    if identity is Identity.MESSAGE:
        return Tracking(f"{consumer}|{topic}|{message.tenant_id}|{message.event_id}", 1)
    source = f"{consumer}|{topic}|{message.tenant_id}|{message.aggregate_id}"
    return Tracking(source, message.sequence)
