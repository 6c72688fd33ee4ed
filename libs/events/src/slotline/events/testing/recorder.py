"""Recording topics in the background during a test module, so tests can wait for the
messages they expect without re-reading a topic from the start each time."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from contextlib import suppress
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer

from slotline.events.contract.registry import ContractViolation, parse_message
from slotline.events.envelope import Message
from slotline.events.keys import misplaced_keys
from slotline.events.testing.reading import eventually
from slotline.events.wire_sealing import open_record

Predicate = Callable[[dict[str, Any]], bool]
M = TypeVar("M", bound=Message)


class TopicRecorder:
    """Collects every record of ``topics`` (decoded JSON, with ``_topic``) from the start."""

    def __init__(self, bootstrap: str, *topics: str) -> None:
        self.bootstrap = bootstrap
        self.topics = topics
        self.messages: list[dict[str, Any]] = []
        self._parsed: dict[int, Message | None] = {}  # by id() of a record in ``messages``
        self._keys: dict[int, bytes | None] = {}  # the record's Kafka key, likewise
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> TopicRecorder:
        consumer = AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self.bootstrap,
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            fetch_max_wait_ms=50,
        )
        await consumer.start()
        self._task = asyncio.create_task(self._collect(consumer))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task

    async def _collect(self, consumer: AIOKafkaConsumer) -> None:
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=100)
                for batch in batches.values():
                    for record in batch:
                        try:
                            body = open_record(json.loads(record.value or b"{}"))
                        except (ValueError, AttributeError):
                            body = {"_raw": (record.value or b"").decode(errors="replace")}
                        body["_topic"] = record.topic
                        self._keys[id(body)] = record.key
                        self.messages.append(body)
        finally:
            await consumer.stop()

    def message_of(self, record: dict[str, Any]) -> Message | None:
        """A record of ``messages`` parsed by the contract, as a consumer reads it; None
        for one the contract refuses (a test's deliberately broken input, a dead letter)."""
        key = id(record)
        if key not in self._parsed:
            body = {k: v for k, v in record.items() if k != "_topic"}
            try:
                self._parsed[key] = parse_message(record["_topic"], json.dumps(body).encode())
            except ContractViolation:
                self._parsed[key] = None
        return self._parsed[key]

    def misplaced_keys(self) -> list[str]:
        """Records so far (of the contract) whose key is not the one their type documents."""
        records = [(self.message_of(m), self._keys[id(m)]) for m in list(self.messages)]
        return misplaced_keys((message, key) for message, key in records if message is not None)

    def published(self, kind: type[M]) -> list[M]:
        """Every record so far that parses as an instance of ``kind``, parsed."""
        found = (self.message_of(m) for m in list(self.messages))
        return [m for m in found if isinstance(m, kind)]

    def matching(self, predicate: Predicate) -> list[dict[str, Any]]:
        return [m for m in self.messages if predicate(m)]

    async def wait_for(
        self, predicate: Predicate, *, count: int = 1, timeout: float = 20.0
    ) -> list[dict[str, Any]]:
        """The matching messages once at least ``count`` have arrived."""
        await eventually(lambda: len(self.matching(predicate)) >= count, timeout=timeout)
        return self.matching(predicate)

    async def settle(self, seconds: float = 1.0) -> None:
        """Wait until nothing new has arrived for ``seconds`` (to catch extras)."""
        seen = -1
        while seen != len(self.messages):
            seen = len(self.messages)
            await asyncio.sleep(seconds)
