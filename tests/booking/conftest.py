"""The booking saga's real stack: availability and booking running side by side on one
PostgreSQL server and one broker, once per test module; each test uses its own tenant
and clinic."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import anyio
import pytest

from slotline.availability.application import AvailabilityApplication
from slotline.availability.demo import Clinic, open_clinic
from slotline.availability.settings import AvailabilitySettings
from slotline.availability.wiring import service_spec as availability_spec
from slotline.booking.application import BookingApplication
from slotline.booking.settings import BookingSettings
from slotline.booking.wiring import service_spec as booking_spec
from slotline.events.envelope import Message
from slotline.events.local.infra import free_port
from slotline.events.testing.reading import eventually
from slotline.events.testing.recorder import Predicate, TopicRecorder
from slotline.events.testing.service import RunningService, running
from slotline.events.topics import (
    AVAILABILITY_COMMANDS,
    BOOKING_EVENTS,
    BOOKING_REQUESTS,
    NOTIFICATIONS_EVENTS,
    PAYMENTS_EVENTS,
    dead_letter_topic,
)

ATHENS = ZoneInfo("Europe/Athens")


@dataclass
class Stack:
    availability: RunningService
    booking: RunningService
    bootstrap: str
    topics: TopicRecorder

    async def send(self, message: Message, topic: str | None = None) -> None:
        """Publish as a channel adapter (or payments) would, keyed by aggregate id."""
        broker = self.booking.runtime.broker
        assert broker is not None
        await broker.publish(
            message.to_json(), topic=topic or message.TOPIC, key=message.aggregate_id.encode()
        )

    def of(self, tenant: str, kind: type[Message]) -> Predicate:
        """The tenant's records that parse as a ``kind`` (by class, as a consumer reads them)."""
        return lambda m: (
            m.get("tenant_id") == tenant and isinstance(self.topics.message_of(m), kind)
        )

    @property
    def holds(self) -> AvailabilityApplication:
        app = self.availability.runtime.application
        assert isinstance(app, AvailabilityApplication)
        return app

    @property
    def bookings(self) -> BookingApplication:
        app = self.booking.runtime.application
        assert isinstance(app, BookingApplication)
        return app

    @property
    def booking_settings(self) -> BookingSettings:
        settings = self.booking.runtime.settings
        assert isinstance(settings, BookingSettings)
        return settings

    async def clinic(self, *, staff: int = 2, rooms: int = 2) -> Clinic:
        """A fresh tenant with a massage clinic, once booking's catalogue knows it."""
        tenant = f"t-{uuid4().hex[:10]}"
        clinic = await anyio.to_thread.run_sync(
            lambda: open_clinic(self.holds, tenant, staff=staff, rooms=rooms)
        )

        async def known() -> bool:
            found = await anyio.to_thread.run_sync(
                self.bookings.catalog.service, tenant, str(clinic.service_id)
            )
            return found is not None

        await eventually(known, timeout=20)
        return clinic


def future_start(days: int = 2, hour: int = 10, minute: int = 0) -> datetime:
    """A slot start ``days`` ahead at a local hour the demo clinic is open."""
    day = (datetime.now(ATHENS) + timedelta(days=days)).date()
    return datetime.combine(day, time(hour, minute), ATHENS).astimezone(UTC)


def form(clinic: Clinic, start: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "name": "Maria Papadopoulou",
        "phone": "+30 694 123 4567",
        "service_id": str(clinic.service_id),
        "location_id": str(clinic.location_id),
        "start": start.isoformat(),
        **extra,
    }


@pytest.fixture(scope="package")
async def stack(package_database_url: str, package_kafka_bootstrap: str) -> AsyncIterator[Stack]:
    common: dict[str, Any] = {
        "database_url": package_database_url,
        "kafka_bootstrap": package_kafka_bootstrap,
        "relay_idle_poll_seconds": 0.2,
    }
    booking_port = free_port()
    async with AsyncExitStack() as services:
        availability = await services.enter_async_context(
            running(
                availability_spec(
                    AvailabilitySettings(
                        **common, http_port=free_port(), expiry_interval_seconds=0.2
                    )
                )
            )
        )
        booking = await services.enter_async_context(
            running(
                booking_spec(
                    BookingSettings(
                        **common,
                        http_port=booking_port,
                        public_base_url=f"http://127.0.0.1:{booking_port}",
                        timeout_interval_seconds=0.2,
                        public_rate_limit="1000/minute",
                        waitlist_offer_seconds=4,
                    )
                )
            )
        )
        recorder = await services.enter_async_context(
            TopicRecorder(
                package_kafka_bootstrap,
                BOOKING_EVENTS,
                AVAILABILITY_COMMANDS,
                PAYMENTS_EVENTS,
                NOTIFICATIONS_EVENTS,
                dead_letter_topic(BOOKING_REQUESTS),
            )
        )
        yield Stack(availability, booking, package_kafka_bootstrap, recorder)
        # Every record the module saw is keyed as its type documents (issue 15.6).
        assert recorder.misplaced_keys() == []
