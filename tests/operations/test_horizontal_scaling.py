"""Two replicas of a consumer service share the partitions of its consumer group and
apply each message once: what a Kubernetes Deployment with ``replicas: 2`` relies on.

Two availability instances (separate ports and runtimes, one database, one broker, one
consumer group) take hold commands from ``availability.commands.v1``.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable
from datetime import datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import anyio
import pytest
from prometheus_client.parser import text_string_to_metric_families

from slotline.availability import demo
from slotline.availability.application import AvailabilityApplication
from slotline.availability.settings import AvailabilitySettings
from slotline.availability.testing import place_hold
from slotline.availability.wiring import service_spec
from slotline.events.contract.availability import HoldPlaced, HoldRejected
from slotline.events.contract.registry import parse_message
from slotline.events.local.infra import free_port
from slotline.events.testing.reading import eventually, read_topic
from slotline.events.testing.service import RunningService, bearer, running
from slotline.events.topics import AVAILABILITY_COMMANDS, AVAILABILITY_EVENTS

pytestmark = pytest.mark.integration

HOLDS = 40
ATHENS = ZoneInfo("Europe/Athens")
STARTS = (time(9), time(10, 30), time(12), time(13, 30))  # 60 min + 15 min buffer apart


def settings(database_url: str, bootstrap: str) -> AvailabilitySettings:
    return AvailabilitySettings(
        database_url=database_url,
        kafka_bootstrap=bootstrap,
        http_port=free_port(),
        relay_idle_poll_seconds=0.2,
    )


@pytest.fixture(scope="module")
async def replicas(
    module_database_url: str, module_kafka_bootstrap: str
) -> AsyncIterator[tuple[RunningService, RunningService]]:
    """Two instances in one consumer group, each holding some of the command partitions."""
    first_spec = service_spec(settings(module_database_url, module_kafka_bootstrap))
    second_spec = service_spec(settings(module_database_url, module_kafka_bootstrap))
    assert first_spec.settings.group_id == second_spec.settings.group_id
    async with running(first_spec) as first, running(second_spec) as second:
        # A join costs Tansu ~5 s per member, and the first rejoins on the second's arrival.
        await eventually(lambda: bool(partitions(first)) and bool(partitions(second)), 60)
        yield first, second


def partitions(service: RunningService) -> set[int]:
    """The ``availability.commands.v1`` partitions this instance's consumer holds now."""
    inbox = service.runtime.inbox
    assert inbox is not None
    return {partition for topic, partition in inbox.assignment() if topic == AVAILABILITY_COMMANDS}


async def applied_here(service: RunningService) -> int:
    """Commands this instance applied, from its own ``/metrics``."""
    text = (await service.client.get("/metrics")).text
    return sum(
        int(sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "slotline_inbox_processed_total"
        and sample.labels.get("topic") == AVAILABILITY_COMMANDS
    )


async def hold_outcomes(bootstrap: str, tenant: str) -> list[HoldPlaced | HoldRejected]:
    """Every hold outcome published for ``tenant``, read until the topic goes quiet."""
    records = await read_topic(
        bootstrap, AVAILABILITY_EVENTS, expected=1, timeout=5, settle_seconds=1.5
    )
    messages = [parse_message(AVAILABILITY_EVENTS, r.value or b"") for r in records]
    return [
        m for m in messages if isinstance(m, HoldPlaced | HoldRejected) and m.tenant_id == tenant
    ]


class TestTwoReplicasShareTheWork:
    async def test_each_replica_holds_partitions_and_every_command_is_applied_once(
        self, replicas: tuple[RunningService, RunningService]
    ) -> None:
        first, second = replicas
        mine, theirs = partitions(first), partitions(second)
        assert mine
        assert theirs
        assert not mine & theirs  # a partition belongs to one member of the group

        app = cast(AvailabilityApplication, first.runtime.application)
        tenant = f"scaling-{uuid.uuid4()}"
        clinic = await anyio.to_thread.run_sync(
            lambda: demo.open_clinic(app, tenant, horizon=timedelta(days=30))
        )
        first_day = (datetime.now(ATHENS) + timedelta(days=2)).date()
        starts = [
            datetime.combine(first_day + timedelta(days=n // len(STARTS)), STARTS[n % 4], ATHENS)
            for n in range(HOLDS)
        ]
        holds = [f"hold-{n}" for n in range(HOLDS)]
        broker = first.runtime.broker
        assert broker is not None
        for hold, start in zip(holds, starts, strict=True):
            command = place_hold(clinic, hold, start)
            await broker.publish(command.to_json(), topic=AVAILABILITY_COMMANDS, key=hold.encode())

        bootstrap = first.runtime.settings.kafka_bootstrap
        outcomes: list[HoldPlaced | HoldRejected] = []

        async def all_answered() -> bool:
            nonlocal outcomes
            outcomes = await hold_outcomes(bootstrap, tenant)
            return {m.hold_id for m in outcomes} == set(holds)

        await eventually(all_answered, timeout=90, interval=0.5)
        outcomes = await hold_outcomes(bootstrap, tenant)  # once more, after a quiet spell

        per_hold = Counter(m.hold_id for m in outcomes)
        assert per_hold == Counter(holds)  # one outcome each: none lost, none doubled
        assert {type(m) for m in outcomes} == {HoldPlaced}
        applied = [await applied_here(first), await applied_here(second)]
        assert sum(applied) == HOLDS
        assert all(count > 0 for count in applied), applied  # both replicas did work

        desk = bearer("front_desk", tenant)

        async def listed() -> list[dict[str, Any]]:
            response = await second.client.get("/v1/holds", headers=desk, params={"limit": 1000})
            return cast(list[dict[str, Any]], response.json())

        await eventually(lambda: _count(listed(), HOLDS), timeout=30)
        rows = await listed()
        assert sorted(r["hold_id"] for r in rows) == sorted(holds)
        assert {r["status"] for r in rows} == {"held"}
        for hold in holds:  # one stored event per hold: placed once, never again
            stored = await anyio.to_thread.run_sync(app.tenant_hold, tenant, hold)
            assert stored.version == 1


async def _count(rows: Awaitable[list[dict[str, Any]]], expected: int) -> bool:
    return len(await rows) == expected
