"""The service split in two processes: an ``api`` process answering HTTP and hold
commands (no slot view of its own) and a ``projector`` process keeping the slot view —
so recomputing days never competes for one interpreter lock with placing holds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, time, timedelta
from typing import cast
from uuid import uuid4
from zoneinfo import ZoneInfo

import anyio
import pytest

from slotline.availability import demo
from slotline.availability.application import AvailabilityApplication
from slotline.availability.live.projection import SlotProjection
from slotline.availability.settings import AvailabilitySettings
from slotline.availability.wiring import service_spec
from slotline.events.channel_watch import ChannelWatch
from slotline.events.local.infra import free_port
from slotline.events.runtime import Runtime
from slotline.events.testing.reading import eventually
from slotline.events.testing.service import RunningService, bearer, running

pytestmark = pytest.mark.integration

ATHENS = ZoneInfo("Europe/Athens")


@pytest.fixture(scope="module")
async def processes(
    module_database_url: str, module_kafka_bootstrap: str
) -> AsyncIterator[tuple[RunningService, RunningService]]:
    async with AsyncExitStack() as stack:
        started = []
        for role in ("api", "projector"):
            settings = AvailabilitySettings(
                database_url=module_database_url,
                kafka_bootstrap=module_kafka_bootstrap,
                http_port=free_port(),
                relay_idle_poll_seconds=0.2,
                availability_role=role,
            )
            started.append(await stack.enter_async_context(running(service_spec(settings))))
        yield started[0], started[1]


async def test_processes_starting_together_make_the_store_once(module_database_url: str) -> None:
    """api and projector start at the same moment on an empty schema: both open it."""
    schema = f"together_{uuid4().hex[:8]}"

    def open_store(role: str) -> None:
        settings = AvailabilitySettings(
            database_url=module_database_url,
            database_schema=schema,
            availability_role=role,
        )
        Runtime(service_spec(settings)).open_store().close()

    async with anyio.create_task_group() as group:
        for role in ("api", "projector", "api", "projector"):
            group.start_soon(anyio.to_thread.run_sync, open_store, role)


def tasks(service: RunningService) -> list[type]:
    return [type(task) for task in service.runtime.background]


async def test_the_api_process_places_holds_and_the_projector_keeps_the_slot_view(
    processes: tuple[RunningService, RunningService],
) -> None:
    api, projector = processes
    assert SlotProjection not in tasks(api)
    # no relay, no inbox, no expiry job: the slot view, and the store's erasure notices
    assert tasks(projector) == [ChannelWatch, SlotProjection]
    assert projector.runtime.inbox is None
    assert projector.runtime.relay is None
    assert (await projector.client.get("/v1/slots")).status_code == 404  # no public routes

    app = cast(AvailabilityApplication, api.runtime.application)
    tenant = f"tenant-{uuid4()}"
    clinic = await anyio.to_thread.run_sync(
        lambda: demo.open_clinic(app, tenant, staff=1, rooms=1, horizon=timedelta(days=14))
    )
    ten = datetime.combine((datetime.now(ATHENS) + timedelta(days=5)).date(), time(10), ATHENS)
    desk = bearer("front_desk", tenant)
    params = {"location_id": str(clinic.location_id), "from": ten.isoformat(), "limit": "1"}

    async def ten_o_clock() -> str:
        slots = (await api.client.get("/v1/slots", params=params, headers=desk)).json()
        found = slots[0] if slots else {}
        at_ten = found.get("start") == ten.astimezone(UTC).isoformat()
        return str(found.get("status")) if at_ten else ""

    async def free() -> bool:
        return await ten_o_clock() == "limited"  # one therapist, one room: one place

    async def taken() -> bool:
        return await ten_o_clock() == "booked"

    await eventually(free)  # projected by the other process
    body = {
        "hold_id": "desk-1",
        "service_id": str(clinic.service_id),
        "location_id": str(clinic.location_id),
        "start": ten.isoformat(),
    }
    placed = await api.client.post("/v1/holds", json=body, headers=desk)
    assert placed.status_code == 201, placed.text
    params["include_booked"] = "true"
    await eventually(taken)
