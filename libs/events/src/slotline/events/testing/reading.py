"""Reading a topic from the start in tests, with plain aiokafka."""

from __future__ import annotations

import asyncio
import time

from aiokafka import AIOKafkaConsumer, ConsumerRecord


async def read_topic(
    bootstrap: str,
    topic: str,
    *,
    expected: int,
    timeout: float = 20.0,
    settle_seconds: float = 0.0,
) -> list[ConsumerRecord[bytes, bytes]]:
    """Records of ``topic`` from the start until ``expected`` have arrived (or the timeout),
    then on until none has come for ``settle_seconds`` (to catch unexpected extras)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=50,
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    deadline = time.monotonic() + timeout
    try:
        while len(records) < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            for batch in batches.values():
                records.extend(batch)
        quiet_since = time.monotonic()
        while settle_seconds and time.monotonic() - quiet_since < settle_seconds:
            batches = await consumer.getmany(timeout_ms=100)
            if any(batches.values()):
                quiet_since = time.monotonic()
            for batch in batches.values():
                records.extend(batch)
        return records
    finally:
        await consumer.stop()


async def eventually(condition: object, timeout: float = 20.0, interval: float = 0.05) -> None:
    """Wait until ``condition()`` is truthy; fail with its last value otherwise."""
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"condition still false after {timeout}s: {value!r}")
        await asyncio.sleep(interval)
