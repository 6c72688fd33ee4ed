"""Kafka records made by hand, to drive the inbox without a broker round trip."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from slotline.events.envelope import Message


@dataclass(frozen=True)
class StubRecord:
    """Has what the inbox reads of an aiokafka ``ConsumerRecord``."""

    topic: str
    value: bytes | None
    key: bytes | None = b"k"
    partition: int = 0
    offset: int = 0
    timestamp: int = 0
    headers: Sequence[tuple[str, bytes]] = field(default_factory=tuple)


def record_of(
    topic: str, message: Message | bytes, *, offset: int = 0, key: bytes | None = None
) -> StubRecord:
    """A record of ``message`` (or raw bytes) keyed by its aggregate id unless ``key``."""
    if isinstance(message, bytes):
        return StubRecord(topic, message, key or b"k", offset=offset, headers=(("h", b"v"),))
    chosen = key if key is not None else message.aggregate_id.encode()
    return StubRecord(topic, message.to_json(), chosen, offset=offset, headers=(("h", b"v"),))


def records_of(topic: str, messages: Sequence[Message | bytes]) -> list[StubRecord]:
    """Consecutive offsets, in order."""
    return [record_of(topic, m, offset=n) for n, m in enumerate(messages)]
