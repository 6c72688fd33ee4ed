"""Publishing what cannot be applied or published to a dead-letter topic, with the reason.

One writer for both directions: the inbox sends a poison Kafka record to
``<topic>.dlq``; the outbox relay sends a stored event it cannot map to
``slotline.outbox.dlq`` (:func:`stored_event`). Same record
(:class:`~slotline.events.contract.dead_letter.DeadLetter`), same headers
(the original's, plus ``dlq_reason`` and ``dlq_consumer``), same masking.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from eventsourcing.persistence import Notification

from slotline.events.contract.common import redact_card_numbers
from slotline.events.contract.dead_letter import DeadLetter
from slotline.events.kafka import Publishes
from slotline.events.logs import get_logger
from slotline.events.topics import dead_letter_topic
from slotline.events.wire_sealing import sealed_letter_payload

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


def stored_event(service: str, notification: Notification) -> ConsumedRecord:
    """A stored event as the record a dead letter describes: its topic is the stored
    event's topic, its offset the notification id (its place in the service's log), its
    key the aggregate id; the headers name the service and where to find it again."""
    return ConsumedRecord(
        topic=notification.topic,
        partition=None,
        offset=notification.id,
        key=str(notification.originator_id).encode(),
        headers={
            "service": service,
            "notification_id": str(notification.id),
            "originator_id": str(notification.originator_id),
            "originator_version": str(notification.originator_version),
        },
        value=notification.state,
    )


async def dead_letter(
    broker: Publishes,
    record: ConsumedRecord,
    *,
    consumer: str,
    reason: str,
    error_type: str,
    topic: str | None = None,
) -> DeadLetter:
    """Publish ``record`` to ``topic`` (default: its own DLQ, ``<topic>.dlq``) and wait
    for the broker's acknowledgement. A card number sent by mistake is masked and
    personal-looking fields are sealed: the DLQ keeps evidence, not card or personal
    data (``wire_sealing.sealed_letter_payload``)."""
    reason = redact_card_numbers(reason)
    letter = DeadLetter(
        reason=reason,
        error_type=error_type,
        original_topic=record.topic,
        original_partition=record.partition,
        original_offset=record.offset,
        original_key=record.key.decode(errors="replace") if record.key is not None else None,
        original_headers=record.headers,
        original_payload=redact_card_numbers(
            sealed_letter_payload(record.value.decode(errors="replace"))
        ),
        failed_at=datetime.now(UTC),
        consumer=consumer,
    )
    await broker.publish(
        letter.model_dump_json().encode(),
        topic=topic or dead_letter_topic(record.topic),
        key=record.key,
        headers={**record.headers, "dlq_reason": reason[:500], "dlq_consumer": consumer},
        correlation_id=record.headers.get("correlation_id"),  # the letter stays in its flow
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
