"""``slotline tail`` prints a topic's records as JSON lines, from the start or the end."""

from __future__ import annotations

import asyncio
import json

import anyio
import pytest
from aiokafka import AIOKafkaProducer
from typer.testing import CliRunner

from slotline.events.cli import app as cli
from slotline.events.cli_tail import tail
from slotline.events.testing.tally import TALLY_TOPIC, TallyCounted, parse_tally

pytestmark = pytest.mark.integration


def counted(n: int) -> TallyCounted:
    return TallyCounted(tenant_id="test", aggregate_id=f"tally-{n % 2}", amount=n, total=0)


async def publish(bootstrap: str, amounts: range) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for n in amounts:
            message = counted(n)
            await producer.send_and_wait(
                TALLY_TOPIC, message.to_json(), key=message.aggregate_id.encode()
            )
    finally:
        await producer.stop()


class TestReadingATopic:
    async def test_from_the_beginning_every_message_is_one_json_line(
        self, kafka_bootstrap: str, tally_topics: str
    ) -> None:
        await publish(kafka_bootstrap, range(5))
        lines: list[str] = []

        written = await tail(kafka_bootstrap, TALLY_TOPIC, lines.append, idle_seconds=0.5)

        assert written == len(lines) == 5
        messages = [parse_tally(TALLY_TOPIC, line.encode()) for line in lines]
        assert all(isinstance(m, TallyCounted) for m in messages)
        assert sorted(m.amount for m in messages if isinstance(m, TallyCounted)) == [0, 1, 2, 3, 4]

    async def test_count_stops_after_that_many(
        self, kafka_bootstrap: str, tally_topics: str
    ) -> None:
        await publish(kafka_bootstrap, range(6))
        lines: list[str] = []

        assert await tail(kafka_bootstrap, TALLY_TOPIC, lines.append, count=2, follow=True) == 2
        assert len(lines) == 2

    async def test_from_the_end_following_shows_only_new_records(
        self, kafka_bootstrap: str, tally_topics: str
    ) -> None:
        await publish(kafka_bootstrap, range(3))
        lines: list[str] = []
        positioned = asyncio.Event()
        following = asyncio.create_task(
            tail(
                kafka_bootstrap,
                TALLY_TOPIC,
                lines.append,
                from_beginning=False,
                follow=True,
                count=2,
                positioned=positioned,
            )
        )
        await positioned.wait()

        await publish(kafka_bootstrap, range(10, 12))

        assert await asyncio.wait_for(following, timeout=20) == 2
        assert sorted(json.loads(line)["amount"] for line in lines) == [10, 11]

    async def test_with_meta_each_line_carries_the_record_coordinates(
        self, kafka_bootstrap: str, tally_topics: str
    ) -> None:
        await publish(kafka_bootstrap, range(1))
        lines: list[str] = []

        await tail(kafka_bootstrap, TALLY_TOPIC, lines.append, with_meta=True, count=1)

        record = json.loads(lines[0])
        assert record["topic"] == TALLY_TOPIC
        assert record["key"] == "tally-0"
        assert record["offset"] == 0
        assert record["value"]["amount"] == 0


class TestTheCommand:
    async def test_slotline_tail_prints_json_lines(
        self, kafka_bootstrap: str, tally_topics: str
    ) -> None:
        await publish(kafka_bootstrap, range(3))
        args = ["tail", TALLY_TOPIC, "--kafka-bootstrap", kafka_bootstrap, "--idle-seconds", "0.5"]

        result = await anyio.to_thread.run_sync(lambda: CliRunner().invoke(cli, args))

        assert result.exit_code == 0, result.output
        amounts = sorted(json.loads(line)["amount"] for line in result.output.splitlines())
        assert amounts == [0, 1, 2]

    async def test_an_unknown_topic_is_refused(self, kafka_bootstrap: str) -> None:
        args = ["tail", "no.such.topic.v1", "--kafka-bootstrap", kafka_bootstrap]

        result = await anyio.to_thread.run_sync(lambda: CliRunner().invoke(cli, args))

        assert result.exit_code == 2
        assert "no topic 'no.such.topic.v1'" in result.output
