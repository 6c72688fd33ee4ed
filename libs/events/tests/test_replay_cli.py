"""``slotline replay availability``: the availability service's stored events back-filled to
a new topic through its own integration mapper, each one as availability's relay sent it."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import anyio
import pytest
from faststream.kafka import KafkaBroker
from typer.testing import CliRunner, Result

from slotline.availability import demo
from slotline.availability.application import AvailabilityApplication, HoldRequest, HoldTaken
from slotline.availability.messaging import publisher
from slotline.events.cli import app as cli
from slotline.events.contract.availability import HoldConfirmed, HoldPlaced
from slotline.events.contract.registry import parse_message
from slotline.events.kafka import build_broker
from slotline.events.relay import OutboxRelay
from slotline.events.settings import ServiceSettings
from slotline.events.store import ensure_schema, postgres_env
from slotline.events.testing.reading import read_topic
from slotline.events.topics import AVAILABILITY_EVENTS

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
TEN = datetime.combine(date(2026, 12, 7), time(10), ZoneInfo("Europe/Athens"))
BACKFILL = "backfill.availability.v1"


@pytest.fixture
def availability(database_url: str) -> Iterator[AvailabilityApplication]:
    ensure_schema(database_url, "availability")
    app = AvailabilityApplication(env=postgres_env(database_url, "availability"), clock=lambda: NOW)
    yield app
    app.close()


@pytest.fixture
async def broker(kafka_bootstrap: str, database_url: str) -> AsyncIterator[KafkaBroker]:
    settings = ServiceSettings(database_url=database_url, kafka_bootstrap=kafka_bootstrap)
    started = build_broker(settings)
    await started.start()
    yield started
    await started.stop()


async def replay(*args: str) -> Result:
    return await anyio.to_thread.run_sync(lambda: CliRunner().invoke(cli, ["replay", *args]))


def records_by_event_id(records: list[Any]) -> dict[str, Any]:
    return {json.loads(r.value)["event_id"]: r for r in records}


class TestBackfillingFromAvailability:
    async def test_a_new_topic_gets_every_published_event_as_the_relay_sent_it(
        self,
        availability: AvailabilityApplication,
        broker: KafkaBroker,
        database_url: str,
        kafka_bootstrap: str,
    ) -> None:
        clinic = demo.open_clinic(availability, "clinic-1", staff=1, rooms=1)
        hold = availability.place_hold(
            HoldRequest(clinic.tenant_id, "h-1", clinic.service_id, clinic.location_id, TEN)
        )
        assert isinstance(hold, HoldTaken)
        availability.confirm_hold(hold.hold_id)
        relay = OutboxRelay(availability, broker, publisher(), database_url=database_url)
        while await relay.relay_once():
            pass
        originals = records_by_event_id(
            await read_topic(kafka_bootstrap, AVAILABILITY_EVENTS, expected=7, settle_seconds=1)
        )
        kinds = {type(parse_message(AVAILABILITY_EVENTS, r.value)) for r in originals.values()}
        assert {HoldPlaced, HoldConfirmed} <= kinds

        result = await replay(
            "availability",
            "--to",
            BACKFILL,
            "--database-url",
            database_url,
            "--kafka-bootstrap",
            kafka_bootstrap,
            "--batch-size",
            "3",
        )

        assert result.exit_code == 0, result.output
        assert f"replayed {len(originals)} events of availability to {BACKFILL}" in result.output
        replayed = records_by_event_id(
            await read_topic(kafka_bootstrap, BACKFILL, expected=len(originals), settle_seconds=1)
        )
        assert replayed.keys() == originals.keys()
        for event_id, original in originals.items():
            assert replayed[event_id].value == original.value
            assert replayed[event_id].key == original.key

    async def test_since_a_date_after_everything_replays_nothing(
        self, availability: AvailabilityApplication, database_url: str, kafka_bootstrap: str
    ) -> None:
        demo.open_clinic(availability, "clinic-2", staff=1, rooms=1)
        tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%d")

        result = await replay(
            "availability",
            "--to",
            BACKFILL,
            "--since",
            tomorrow,
            "--database-url",
            database_url,
            "--kafka-bootstrap",
            kafka_bootstrap,
        )

        assert result.exit_code == 0, result.output
        assert "replayed 0 events" in result.output

    async def test_an_unknown_service_is_refused_by_name(self) -> None:
        result = await replay(f"nosuch{uuid.uuid4().hex[:6]}", "--to", BACKFILL)

        assert result.exit_code == 2
        assert "no service" in result.output
