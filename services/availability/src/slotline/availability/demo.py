"""A ready-made clinic: therapists, treatment rooms and a massage that needs one of each.

Used by ``make run`` to give a fresh stack something to book, and by tests and
benchmarks so they all set up the same realistic catalog.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import time, timedelta
from uuid import UUID, uuid4

import anyio

from slotline.availability.catalog_admin import CatalogApplication
from slotline.availability.domain.values import (
    Requirement,
    ResourceKind,
    ResourceSchedule,
    ServiceDefinition,
    WeeklyHours,
)
from slotline.events.logs import get_logger

log = get_logger(__name__)

MASSAGE_NEEDS = (
    Requirement(ResourceKind.STAFF, frozenset({"massage"})),
    Requirement(ResourceKind.ROOM, frozenset({"treatment"})),
)


@dataclass(frozen=True)
class Clinic:
    tenant_id: str
    location_id: UUID
    service_id: UUID
    staff_ids: tuple[UUID, ...]
    room_ids: tuple[UUID, ...]


def open_clinic(
    app: CatalogApplication,
    tenant_id: str,
    *,
    staff: int = 3,
    rooms: int = 2,
    timezone: str = "Europe/Athens",
    opens: time = time(9),
    closes: time = time(21),
    duration: timedelta = timedelta(minutes=60),
    buffer_after: timedelta = timedelta(minutes=15),
    slot_interval: timedelta = timedelta(minutes=15),
    horizon: timedelta = timedelta(days=30),
    service_id: UUID | None = None,
    price_tier: str = "standard",
) -> Clinic:
    """Register a location, its staff and rooms, and a massage service needing both
    (priced by booking's policy for ``price_tier``)."""
    location = app.register_location(tenant_id, "Kifisia clinic", timezone)
    hours = ResourceSchedule(WeeklyHours.every_day((opens, closes)))
    staff_ids = tuple(
        app.register_resource(
            tenant_id, location, ResourceKind.STAFF, f"therapist {n}", ["massage"], hours
        )
        for n in range(staff)
    )
    room_ids = tuple(
        app.register_resource(
            tenant_id, location, ResourceKind.ROOM, f"room {n}", ["treatment"], hours
        )
        for n in range(rooms)
    )
    definition = ServiceDefinition(
        service_id=service_id or uuid4(),
        duration=duration,
        buffer_after=buffer_after,
        requirements=MASSAGE_NEEDS,
        slot_interval=slot_interval,
        booking_horizon=horizon,
        price_tier=price_tier,
    )
    service = app.define_service(tenant_id, location, "60-min massage", definition)
    return Clinic(tenant_id, location, service, staff_ids, room_ids)


class DemoSeeder:
    """Background task for ``make run``: an empty store gets the demo clinic (tenant
    ``demo``), so a fresh stack has slots to look at and book."""

    name = "demo-seeder"
    tenant_id = "demo"

    def __init__(self, app: CatalogApplication) -> None:
        self.app = app
        self.clinic: Clinic | None = None
        self._stopping = asyncio.Event()

    def seed(self) -> Clinic | None:
        if self.app.recorder.max_notification_id():
            return None  # not a fresh store: leave it as it is
        self.clinic = open_clinic(self.app, self.tenant_id)
        log.info(
            "demo clinic registered",
            tenant=self.tenant_id,
            location_id=str(self.clinic.location_id),
            service_id=str(self.clinic.service_id),
        )
        return self.clinic

    async def run(self) -> None:
        await anyio.to_thread.run_sync(self.seed)
        await self._stopping.wait()

    def stop(self) -> None:
        self._stopping.set()
