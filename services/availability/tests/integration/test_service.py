"""The whole availability service on a real port, PostgreSQL and broker: holds over HTTP
and Kafka, the live view over SSE, the expiry job, the published events."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import anyio
import httpx
import pytest

from slotline.availability import demo
from slotline.availability.application import AvailabilityApplication, HoldRequest, HoldTaken
from slotline.availability.testing import place_hold
from slotline.events.contract import availability_commands as commands
from slotline.events.contract.availability import (
    HoldConfirmed,
    HoldExpired,
    HoldPlaced,
    HoldRejected,
    HoldReleased,
    HoldRescheduled,
    HoldRescheduleRefused,
)
from slotline.events.contract.availability_catalog import (
    LocationRegistered,
    ResourceRegistered,
    ServiceDefined,
)
from slotline.events.contract.registry import parse_message
from slotline.events.envelope import Message
from slotline.events.testing.reading import eventually, read_topic
from slotline.events.testing.service import RunningService, bearer
from slotline.events.topics import AVAILABILITY_COMMANDS, AVAILABILITY_EVENTS, dead_letter_topic

pytestmark = pytest.mark.integration

ATHENS = ZoneInfo("Europe/Athens")


def application(service: RunningService) -> AvailabilityApplication:
    return cast(AvailabilityApplication, service.runtime.application)


async def open_clinic(service: RunningService) -> tuple[demo.Clinic, datetime]:
    """A clinic of this test's own tenant, and a 10:00 slot five days ahead."""
    tenant = f"tenant-{uuid.uuid4()}"
    clinic = await anyio.to_thread.run_sync(
        lambda: demo.open_clinic(application(service), tenant, horizon=timedelta(days=14))
    )
    day = (datetime.now(ATHENS) + timedelta(days=5)).date()
    return clinic, datetime.combine(day, time(10), ATHENS)


async def sse_events(response: httpx.Response) -> AsyncIterator[tuple[str, Any]]:
    """(event, data) pairs of a Server-Sent Events stream."""
    event, data = "message", ""
    async for line in response.aiter_lines():
        if line.startswith("event:"):
            event = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data += line.removeprefix("data:").strip()
        elif not line and data:
            yield event, json.loads(data)
            event, data = "message", ""


async def published(
    service: RunningService, tenant: str, expected: int, settle: float = 0.0
) -> list[Message]:
    """The tenant's records of availability's topic, parsed by the contract."""
    records = await read_topic(
        service.runtime.settings.kafka_bootstrap,
        AVAILABILITY_EVENTS,
        expected=1,
        timeout=5,
        settle_seconds=max(settle, 1.0),
    )
    mine = [parse_message(AVAILABILITY_EVENTS, r.value or b"") for r in records]
    mine = [m for m in mine if m.tenant_id == tenant]
    if len(mine) < expected:
        return []
    return mine


async def wait_published(
    service: RunningService, tenant: str, predicate: Callable[[Message], bool], timeout: float = 20
) -> list[Message]:
    found: list[Message] = []

    async def arrived() -> bool:
        nonlocal found
        found = [m for m in await published(service, tenant, 0) if predicate(m)]
        return bool(found)

    await eventually(arrived, timeout=timeout)
    return found


async def send(service: RunningService, command: Message) -> None:
    broker = service.runtime.broker
    assert broker is not None
    await broker.publish(
        command.to_json(), topic=AVAILABILITY_COMMANDS, key=command.aggregate_id.encode()
    )


# What a hold's life publishes (every ``Hold…`` class of the topic).
HOLD_OUTCOMES = (
    HoldPlaced,
    HoldRejected,
    HoldConfirmed,
    HoldReleased,
    HoldExpired,
    HoldRescheduled,
    HoldRescheduleRefused,
)


class TestHoldsOverHttpAndTheLiveView:
    async def test_a_hold_reaches_the_sse_stream_and_the_slot_list(
        self, service: RunningService
    ) -> None:
        clinic, ten = await open_clinic(service)
        desk = bearer("front_desk", clinic.tenant_id)
        api = service.client

        async def day_computed() -> bool:
            params = {"location_id": str(clinic.location_id), "from": ten.isoformat()}
            slots = (await api.get("/v1/slots", params=params, headers=desk)).json()
            return bool(slots) and slots[0]["start"] == ten.astimezone(UTC).isoformat()

        await eventually(day_computed)
        url = f"/v1/slots/stream?location_id={clinic.location_id}"
        async with api.stream("GET", url, headers=desk) as stream:
            assert stream.status_code == 200
            events = sse_events(stream)
            assert (await anext(events))[0] == "ready"
            body = {
                "hold_id": "desk-1",
                "service_id": str(clinic.service_id),
                "location_id": str(clinic.location_id),
                "start": ten.isoformat(),
            }
            placed = await api.post("/v1/holds", json=body, headers=desk)
            assert placed.status_code == 201, placed.text
            assert placed.json()["status"] == "held"

            async def ten_o_clock() -> str:
                async for event, data in events:
                    if event == "slots" and data["day"] == ten.date().isoformat():
                        for slot in data["slots"]:
                            if slot["start"] == ten.astimezone(UTC).isoformat():
                                return str(slot["status"])
                return ""

            assert await asyncio.wait_for(ten_o_clock(), 10) == "limited"

        params = {"location_id": str(clinic.location_id), "from": ten.isoformat(), "limit": "1"}
        listed = (await api.get("/v1/slots", params=params, headers=desk)).json()
        assert listed[0]["status"] == "limited"
        again = await api.post("/v1/holds", json=body, headers=desk)  # a retried POST
        assert again.json()["id"] == placed.json()["id"]
        holds = (await api.get("/v1/holds", headers=desk)).json()
        assert [h["hold_id"] for h in holds] == ["desk-1"]

    async def test_a_taken_slot_gets_409_with_alternatives_and_confirm_allocates(
        self, service: RunningService
    ) -> None:
        clinic, ten = await open_clinic(service)
        desk = bearer("front_desk", clinic.tenant_id)
        body = {
            "service_id": str(clinic.service_id),
            "location_id": str(clinic.location_id),
            "start": ten.isoformat(),
        }
        for key in ("a", "b"):
            placed = await service.client.post(
                "/v1/holds", json=body | {"hold_id": key}, headers=desk
            )
            assert placed.status_code == 201
        refused = await service.client.post("/v1/holds", json=body | {"hold_id": "c"}, headers=desk)
        assert refused.status_code == 409
        assert refused.json()["reason"] == "taken"
        assert refused.json()["alternatives"]
        confirmed = await service.client.post("/v1/holds/a/confirm", headers=desk)
        assert confirmed.json()["status"] == "confirmed"
        assert confirmed.json()["expires_at"] is None
        released = await service.client.post("/v1/holds/a/release", headers=desk)
        assert released.status_code == 409  # a confirmed booking is cancelled, not released
        assert "cancel" in released.json()["detail"]
        other = await service.client.get("/v1/holds/a", headers=bearer("front_desk", "intruder"))
        assert other.status_code == 404

    async def test_a_customer_holds_only_an_offered_start_and_staff_may_override(
        self, service: RunningService
    ) -> None:
        """Issue 15 item 9: 10:07 on a 15-minute grid is never in the slot list, so a
        customer's hold there is refused with the nearest offered starts; staff may
        place it explicitly (offered_only false), and a move follows the same rule."""
        clinic, ten = await open_clinic(service)
        desk = bearer("front_desk", clinic.tenant_id)
        body = {
            "service_id": str(clinic.service_id),
            "location_id": str(clinic.location_id),
            "start": (ten + timedelta(minutes=7)).isoformat(),
        }
        refused = await service.client.post(
            "/v1/holds", json=body | {"hold_id": "customer", "offered_only": True}, headers=desk
        )
        assert refused.status_code == 409, refused.text
        assert refused.json()["reason"] == "outside_hours"
        nearest = [datetime.fromisoformat(a["start"]) for a in refused.json()["alternatives"]]
        assert nearest[:2] == [ten, ten + timedelta(minutes=15)]
        on_grid = await service.client.post(
            "/v1/holds",
            json=body | {"hold_id": "grid", "offered_only": True, "start": ten.isoformat()},
            headers=desk,
        )
        assert on_grid.status_code == 201, on_grid.text
        moved = await service.client.post(
            "/v1/holds/grid/reschedule",
            json={
                "start": (ten + timedelta(hours=1, minutes=22)).isoformat(),
                "offered_only": True,
            },
            headers=desk,
        )
        assert moved.status_code == 409, moved.text
        assert moved.json()["reason"] == "outside_hours"
        staff = await service.client.post(
            "/v1/holds", json=body | {"hold_id": "staff"}, headers=desk
        )
        assert staff.status_code == 201, staff.text
        assert datetime.fromisoformat(staff.json()["start"]) == ten + timedelta(minutes=7)

    async def test_bad_input_is_named(self, service: RunningService) -> None:
        clinic, _ = await open_clinic(service)
        desk = bearer("front_desk", clinic.tenant_id)
        body = {"service_id": "nope", "location_id": str(clinic.location_id), "start": "10:00"}
        response = await service.client.post("/v1/holds", json=body, headers=desk)
        assert response.status_code == 422
        fields = {e["field"] for e in response.json()["errors"]}
        assert fields == {"service_id", "start"}
        naive = await service.client.get(
            "/v1/slots", params={"from": "2026-12-07T10:00:00"}, headers=desk
        )
        assert naive.status_code == 422
        assert "UTC offset" in naive.json()["detail"]


class TestExpiry:
    async def test_a_lapsed_hold_is_expired_published_and_its_slot_freed(
        self, service: RunningService
    ) -> None:
        clinic, ten = await open_clinic(service)
        app = application(service)
        request = HoldRequest(
            clinic.tenant_id,
            "short",
            clinic.service_id,
            clinic.location_id,
            ten,
            ttl=timedelta(seconds=1),
        )
        for key in ("short", "short-2"):
            taken = await anyio.to_thread.run_sync(
                app.place_hold, HoldRequest(**{**request.__dict__, "hold_key": key})
            )
            assert isinstance(taken, HoldTaken)
        desk = bearer("front_desk", clinic.tenant_id)

        async def expired() -> bool:
            holds = (await service.client.get("/v1/holds", headers=desk)).json()
            return [h["status"] for h in holds] == ["expired", "expired"]

        await eventually(expired, timeout=15)
        events = await wait_published(
            service, clinic.tenant_id, lambda m: isinstance(m, HoldExpired)
        )
        assert sorted(m.hold_id for m in events if isinstance(m, HoldExpired)) == [
            "short",
            "short-2",
        ]
        params = {"location_id": str(clinic.location_id), "from": ten.isoformat(), "limit": "1"}

        async def free_again() -> bool:
            listed = (await service.client.get("/v1/slots", params=params, headers=desk)).json()
            return bool(listed) and listed[0]["status"] == "available"

        await eventually(free_again)


class TestKafkaCommands:
    async def test_booking_commands_are_applied_once_and_answered_on_the_topic(
        self, service: RunningService
    ) -> None:
        clinic, ten = await open_clinic(service)

        def place(key: str) -> commands.PlaceHold:
            return place_hold(clinic, key, ten, request_id=f"request-{key}")

        first = place("k1")
        await send(service, first)
        await send(service, first)  # redelivered: acts once
        # Keys land on different partitions, consumed side by side: let k1 win first.
        await wait_published(
            service,
            clinic.tenant_id,
            lambda m: isinstance(m, HoldPlaced) and m.hold_id == "k1",
        )
        await send(service, place("k2"))
        await send(service, place("k3"))  # two rooms: the third is refused
        await send(
            service,
            commands.ConfirmHold(
                tenant_id=clinic.tenant_id, aggregate_id="k1", sequence=2, hold_id="k1"
            ),
        )
        events = await wait_published(
            service, clinic.tenant_id, lambda m: isinstance(m, HoldConfirmed)
        )
        assert isinstance(events[0], HoldConfirmed)
        assert events[0].request_id == "request-k1"
        everything = await published(service, clinic.tenant_id, 4, settle=1.0)
        outcomes = [(m.hold_id, type(m)) for m in everything if isinstance(m, HOLD_OUTCOMES)]
        assert Counter(o for o in outcomes if o[0] == "k1") == {
            ("k1", HoldConfirmed): 1,
            ("k1", HoldPlaced): 1,
        }
        # k2 and k3 are keyed apart, so either may come first: one of them is refused.
        assert Counter(kind for hold, kind in outcomes if hold != "k1") == {
            HoldPlaced: 1,
            HoldRejected: 1,
        }
        rejected = next(m for m in everything if isinstance(m, HoldRejected))
        assert rejected.reason == "taken"
        assert rejected.alternatives
        assert {LocationRegistered, ResourceRegistered, ServiceDefined} <= {
            type(m) for m in everything
        }

    async def test_a_hold_asked_with_confirm_is_allocated_at_once_and_freed_by_a_release(
        self, service: RunningService
    ) -> None:
        """Nothing due first: one command places and confirms (two hops fewer). Its
        booking may still give it back (it stopped waiting first): the release frees it,
        so no allocation is left behind for a booking that expired."""
        clinic, ten = await open_clinic(service)
        tenant = clinic.tenant_id
        key = f"at-once-{uuid.uuid4().hex[:8]}"
        await send(service, place_hold(clinic, key, ten, confirm=True))
        confirmed = await wait_published(
            service, tenant, lambda m: isinstance(m, HoldConfirmed) and m.hold_id == key
        )
        assert isinstance(confirmed[0], HoldConfirmed)
        assert confirmed[0].slot.start == ten
        await send(
            service,
            commands.ReleaseHold(
                tenant_id=tenant,
                aggregate_id=key,
                sequence=2,
                hold_id=key,
                reason="booking_timed_out",
            ),
        )
        await wait_published(
            service, tenant, lambda m: isinstance(m, HoldReleased) and m.hold_id == key
        )
        outcomes = [
            type(m)
            for m in await published(service, tenant, 3, settle=1.0)
            if isinstance(m, HOLD_OUTCOMES) and m.hold_id == key
        ]
        assert outcomes == [HoldPlaced, HoldConfirmed, HoldReleased]

    async def test_a_command_that_cannot_apply_is_dead_lettered_with_its_reason(
        self, service: RunningService
    ) -> None:
        clinic, _ = await open_clinic(service)
        await send(
            service,
            commands.ConfirmHold(
                tenant_id=clinic.tenant_id, aggregate_id="ghost", sequence=1, hold_id="ghost"
            ),
        )
        broker = service.runtime.broker
        assert broker is not None
        await broker.publish(b'{"event_type": "PlaceHold"}', topic=AVAILABILITY_COMMANDS, key=b"x")

        async def dead_letters() -> list[dict[str, Any]]:
            records = await read_topic(
                service.runtime.settings.kafka_bootstrap,
                dead_letter_topic(AVAILABILITY_COMMANDS),
                expected=1,
                timeout=5,
                settle_seconds=1.0,  # a fresh reader may see one partition before the rest
            )
            return [json.loads(r.value or b"{}") for r in records]

        async def both() -> bool:
            reasons = " ".join(json.dumps(d) for d in await dead_letters())
            return "no hold" in reasons and commands.PlaceHold.EVENT_TYPE in reasons

        await eventually(both, timeout=30)
