"""Publishing poison messages to ``<topic>.dlq`` with the reason and the original."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from faststream.kafka import KafkaBroker

from slotline.events.contract.common import redact_card_numbers
from slotline.events.contract.dead_letter import DeadLetter
from slotline.events.logs import get_logger
from slotline.events.topics import dead_letter_topic

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ConsumedRecord:
    """What the inbox knows of a Kafka record, independent of the client library."""

    topic: str
    partition: int | None
    offset: int | None
    key: bytes | None
    headers: dict[str, str]
    value: bytes


async def dead_letter(
    broker: KafkaBroker, record: ConsumedRecord, *, consumer: str, reason: str, error_type: str
) -> DeadLetter:
    """Publish ``record`` to its DLQ and wait for the broker's acknowledgement. A card
    number sent by mistake is masked: the DLQ keeps evidence, not card data."""
    reason = redact_card_numbers(reason)
    letter = DeadLetter(
        reason=reason,
        error_type=error_type,
        original_topic=record.topic,
        original_partition=record.partition,
        original_offset=record.offset,
        original_key=record.key.decode(errors="replace") if record.key is not None else None,
        original_headers=record.headers,
        original_payload=redact_card_numbers(record.value.decode(errors="replace")),
        failed_at=datetime.now(UTC),
        consumer=consumer,
    )
    await broker.publish(
        letter.model_dump_json().encode(),
        topic=dead_letter_topic(record.topic),
        key=record.key,
        headers={**record.headers, "dlq_reason": reason[:500], "dlq_consumer": consumer},
    )
    log.warning(
        "message dead-lettered",
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        consumer=consumer,
        reason=reason,
    )
    return letter
