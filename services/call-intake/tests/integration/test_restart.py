"""A restart mid-way loses no task: deadlines are stored, not held in a timer."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any, TypeVar, cast

import pytest

from slotline.call_intake.application import CallIntakeApplication
from slotline.call_intake.testing import OPEN_HOURS, Clock, Telephony, plan, settings_for
from slotline.call_intake.wiring import service_spec
from slotline.events.contract.callbacks import CallbackTaskCreated
from slotline.events.contract.notifications import EscalationRequested
from slotline.events.contract.registry import parse_message
from slotline.events.envelope import Message
from slotline.events.testing.reading import eventually, read_topic
from slotline.events.testing.service import bearer, running
from slotline.events.topics import CALLS_EVENTS, NOTIFICATIONS_EVENTS

pytestmark = pytest.mark.integration


M = TypeVar("M", bound=Message)


async def of_type(bootstrap: str, topic: str, tenant: str, kind: type[M]) -> list[M]:
    """The tenant's records of ``topic`` that parse as a ``kind``, parsed by the contract."""
    records = await read_topic(bootstrap, topic, expected=1, timeout=10, settle_seconds=1.0)
    messages = [parse_message(topic, r.value or b"") for r in records]
    return [m for m in messages if isinstance(m, kind) and m.tenant_id == tenant]


class TestRestart:
    async def test_a_task_opened_before_a_restart_is_queued_and_escalated_after_it(
        self, database_url: str, kafka_bootstrap: str
    ) -> None:
        clock = Clock(OPEN_HOURS)
        tenant = f"clinic-{uuid.uuid4().hex[:8]}"
        settings = settings_for(database_url, kafka_bootstrap)
        async with running(service_spec(settings)) as first:
            cast(CallIntakeApplication, first.runtime.application).clock = clock
            put = await first.client.put(
                "/v1/call-plan", json=plan(), headers=bearer("manager", tenant)
            )
            assert put.status_code == 200
            await Telephony(first, tenant).missed_call(f"CA{uuid.uuid4().hex}", "+306912345678")
        # Stopped as soon as the webhook was answered: relay and view may not have run.

        clock.advance(timedelta(minutes=16))  # the deadline passed while it was down
        settings = settings_for(database_url, kafka_bootstrap)
        async with running(service_spec(settings)) as second:
            cast(CallIntakeApplication, second.runtime.application).clock = clock
            desk = bearer("front_desk", tenant)

            async def queued() -> list[dict[str, Any]]:
                rows: list[dict[str, Any]] = (
                    await second.client.get("/v1/callbacks", headers=desk)
                ).json()
                return rows

            await eventually(queued)
            [task] = await queued()
            created = await of_type(kafka_bootstrap, CALLS_EVENTS, tenant, CallbackTaskCreated)
            assert [c.task_id for c in created] == [task["task_id"]]

            async def breached() -> list[EscalationRequested]:
                return [
                    e
                    for e in await of_type(
                        kafka_bootstrap, NOTIFICATIONS_EVENTS, tenant, EscalationRequested
                    )
                    if e.breached
                ]

            await eventually(breached, timeout=30)
            assert [e.task_id for e in await breached()] == [task["task_id"]]
