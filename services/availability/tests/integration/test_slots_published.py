"""``SlotsChanged`` on the real broker: each recomputed day goes out whole, once per
revision; a send cut off before it was noted goes again with the same id."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import anyio
import pytest

from slotline.availability import demo
from slotline.availability.application import AvailabilityApplication, HoldRequest, HoldTaken
from slotline.availability.live.projection import SlotProjection
from slotline.availability.live.publishing import SlotsPublisher
from slotline.availability.settings import AvailabilitySettings
from slotline.events.contract.availability import SlotsChanged
from slotline.events.contract.registry import parse_message
from slotline.events.kafka import build_producer
from slotline.events.testing.reading import eventually, read_topic
from slotline.events.testing.service import RunningService
from slotline.events.topics import AVAILABILITY_EVENTS

pytestmark = pytest.mark.integration

ATHENS = ZoneInfo("Europe/Athens")
DAY = date(2026, 12, 7)
TEN = datetime.combine(DAY, time(10), ATHENS)


def publisher(
    app: AvailabilityApplication, database_url: str, bootstrap: str, batch_size: int = 500
) -> SlotsPublisher:
    settings = AvailabilitySettings(database_url=database_url, kafka_bootstrap=bootstrap)
    return SlotsPublisher(
        lambda: app.sql_recorder,
        app.schema,
        lambda: build_producer(settings, role="slots"),
        batch_size=batch_size,
    )


async def days_of(bootstrap: str, tenant: str, expected: int) -> list[SlotsChanged]:
    records = await read_topic(bootstrap, AVAILABILITY_EVENTS, expected=expected, timeout=10)
    found = []
    for record in records:
        message = parse_message(AVAILABILITY_EVENTS, record.value or b"")
        if isinstance(message, SlotsChanged) and message.tenant_id == tenant:
            found.append(message)
    return found


class TestSlotsChangedOnKafka:
    async def test_each_recomputed_day_goes_out_whole_once_per_revision(
        self,
        app: AvailabilityApplication,
        projection: SlotProjection,
        database_url: str,
        kafka_bootstrap: str,
    ) -> None:
        tenant = f"tenant-{uuid.uuid4()}"
        clinic = demo.open_clinic(app, tenant, horizon=timedelta(days=10))
        await anyio.to_thread.run_sync(projection.catch_up)
        slots = publisher(app, database_url, kafka_bootstrap)
        try:
            opened = await slots.publish_pending()
            assert opened >= 1, "every day of the horizon was computed: each goes out"
            assert await slots.publish_pending() == 0, "nothing new: nothing sent again"
            request = HoldRequest(tenant, "h1", clinic.service_id, clinic.location_id, TEN)
            assert isinstance(app.place_hold(request), HoldTaken)
            await anyio.to_thread.run_sync(projection.catch_up)
            assert await slots.publish_pending() == 1, "the held day only"
        finally:
            await slots.close()

        sent = await days_of(kafka_bootstrap, tenant, expected=opened + 1)
        assert len(sent) == opened + 1
        first, held = [m for m in sent if m.day == DAY]
        assert held.sequence > first.sequence
        assert held.event_id != first.event_id
        assert held.aggregate_id == first.aggregate_id, "one key per day: kept in order"
        ten = {s.slot.start: s.status.value for s in held.slots}
        assert ten[TEN.astimezone(UTC)] == "limited"
        assert {s.status.value for s in first.slots} == {"available"}
        assert len(held.slots) == len(first.slots) == 44, "the whole day, every start"

    async def test_a_send_not_noted_goes_again_with_the_same_id(
        self,
        app: AvailabilityApplication,
        projection: SlotProjection,
        database_url: str,
        kafka_bootstrap: str,
    ) -> None:
        tenant = f"tenant-{uuid.uuid4()}"
        demo.open_clinic(app, tenant, horizon=timedelta(days=1))
        await anyio.to_thread.run_sync(projection.catch_up)
        slots = publisher(app, database_url, kafka_bootstrap)
        try:
            days = slots._unpublished()
            await slots._send(days)  # the process dies here, before the days are noted
            again = await slots.publish_pending()
        finally:
            await slots.close()
        assert again == len(days)
        sent = await days_of(kafka_bootstrap, tenant, expected=2 * len(days))
        assert len(sent) == 2 * len(days)
        assert len({m.event_id for m in sent}) == len(days), "a consumer de-duplicates by id"


class TestTheRunningService:
    async def test_its_projection_publishes_the_days_it_computes(
        self, service: RunningService
    ) -> None:
        app = service.runtime.application
        assert isinstance(app, AvailabilityApplication)
        tenant = f"tenant-{uuid.uuid4()}"
        await anyio.to_thread.run_sync(
            lambda: demo.open_clinic(app, tenant, horizon=timedelta(days=1))
        )
        bootstrap = service.runtime.settings.kafka_bootstrap

        async def published() -> list[SlotsChanged]:
            return await days_of(bootstrap, tenant, expected=1)

        await eventually(published, timeout=20)
        days = await published()
        assert any(day.slots for day in days), "an open day lists its starts"
