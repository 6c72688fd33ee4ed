"""``slotline tail TOPIC``: a topic's records as JSON lines, for people and for ``jq``.

Reads every partition without a consumer group (nothing is committed, no other reader
is disturbed), from the beginning or from the end. Without ``--follow`` it stops once
the topic has been quiet for ``--idle-seconds``: end offsets are not trusted (the
embedded broker reports stale ones).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import typer
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from slotline.events.kafka_security import KafkaSecurity
from slotline.events.settings import ServiceSettings


def record_line(record: ConsumerRecord[bytes, bytes], *, with_meta: bool) -> str:
    """One JSON line: the message itself, or the record with its Kafka coordinates."""
    raw = record.value or b""
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw.decode(errors="replace")  # poison stays visible, as a JSON string
    if with_meta:
        value = {
            "topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "timestamp": datetime.fromtimestamp(record.timestamp / 1000, UTC).isoformat(),
            "key": record.key.decode(errors="replace") if record.key is not None else None,
            "headers": {k: v.decode(errors="replace") for k, v in record.headers or ()},
            "value": value,
        }
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


async def tail(
    bootstrap: str,
    topic: str,
    write: Callable[[str], None],
    *,
    from_beginning: bool = True,
    follow: bool = False,
    count: int | None = None,
    idle_seconds: float = 2.0,
    with_meta: bool = False,
    positioned: asyncio.Event | None = None,
    security: KafkaSecurity | None = None,
) -> int:
    """Write ``topic``'s records as JSON lines; return how many were written.

    ``positioned`` is set once every partition's start position is known, so that a
    caller tailing from the end knows from when on a record will be seen.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        fetch_max_wait_ms=100,
        **(security or KafkaSecurity()).client_options(),
    )
    await consumer.start()
    written = 0
    try:
        if topic not in await consumer.topics():
            raise typer.BadParameter(f"no topic {topic!r} on {bootstrap}", param_hint="TOPIC")
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        if from_beginning:
            await consumer.seek_to_beginning(*partitions)
        else:
            await consumer.seek_to_end(*partitions)
        for partition in partitions:
            await consumer.position(partition)
        if positioned is not None:
            positioned.set()
        quiet_since = time.monotonic()
        while count is None or written < count:
            if not follow and time.monotonic() - quiet_since >= idle_seconds:
                break
            batches = await consumer.getmany(timeout_ms=200)
            for records in batches.values():
                quiet_since = time.monotonic()
                for record in records[: None if count is None else count - written]:
                    write(record_line(record, with_meta=with_meta))
                    written += 1
        return written
    finally:
        await consumer.stop()


def tail_command(
    topic: str = typer.Argument(help="The topic to read, e.g. booking.events.v1."),
    from_beginning: bool = typer.Option(
        True, "--from-beginning/--from-end", help="Start at the first record or at the end."
    ),
    follow: bool = typer.Option(
        False, "--follow", "-f", help="Keep reading new records until Ctrl-C (or --count)."
    ),
    count: int | None = typer.Option(None, "--count", "-n", min=1, help="Stop after N records."),
    idle_seconds: float = typer.Option(
        2.0, min=0.1, help="Without --follow: stop after this long without a new record."
    ),
    meta: bool = typer.Option(
        False, "--meta", help="Wrap each message with topic, partition, offset, key, headers."
    ),
    kafka_bootstrap: str | None = typer.Option(None, help="Default: SLOTLINE_KAFKA_BOOTSTRAP."),
) -> None:
    """Print a topic's records as JSON lines (one message per line)."""
    settings = ServiceSettings()
    bootstrap = kafka_bootstrap or settings.kafka_bootstrap
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            tail(
                bootstrap,
                topic,
                typer.echo,
                from_beginning=from_beginning,
                follow=follow,
                count=count,
                idle_seconds=idle_seconds,
                with_meta=meta,
                security=settings.kafka_security,
            )
        )
