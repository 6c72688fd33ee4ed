"""A tenant's locations and services as the booking page addresses them: by a slug of
their name (``/demo/kifisia-clinic/60-min-massage``) or by id. Read from booking's
public catalogue and kept for a short while, since every page view needs it."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from slotline.web.clients.services import Booking

FRESH_FOR_SECONDS = 30.0


def slug(name: str) -> str:
    return re.sub(r"[^\w]+", "-", name.lower()).strip("-") or "x"


@dataclass(frozen=True)
class Service:
    service_id: str
    name: str
    duration_minutes: int
    quote: dict[str, Any]

    @property
    def slug(self) -> str:
        return slug(self.name)

    @property
    def due_now(self) -> dict[str, Any] | None:
        due: dict[str, Any] | None = self.quote.get("due_now")
        return due


@dataclass(frozen=True)
class Location:
    location_id: str
    name: str
    time_zone: str
    address: str | None
    services: tuple[Service, ...]

    @property
    def slug(self) -> str:
        return slug(self.name)

    def service(self, key: str) -> Service | None:
        return next((s for s in self.services if key in (s.slug, s.service_id)), None)


class Catalogs:
    def __init__(self, booking: Booking) -> None:
        self.booking = booking
        self._kept: dict[str, tuple[float, list[Location]]] = {}

    async def locations(self, tenant_id: str) -> list[Location]:
        kept = self._kept.get(tenant_id)
        if kept and time.monotonic() - kept[0] < FRESH_FOR_SECONDS:
            return kept[1]
        rows = await self.booking.catalog(tenant_id)
        locations = [
            Location(
                location_id=str(row["location_id"]),
                name=row["name"],
                time_zone=row["time_zone"],
                address=row.get("address"),
                services=tuple(
                    Service(str(s["service_id"]), s["name"], int(s["duration_minutes"]), s["quote"])
                    for s in row["services"]
                ),
            )
            for row in rows
        ]
        if locations:  # a tenant set up a moment ago is asked again next time
            self._kept[tenant_id] = (time.monotonic(), locations)
        return locations

    async def location(self, tenant_id: str, key: str) -> Location | None:
        return next(
            (loc for loc in await self.locations(tenant_id) if key in (loc.slug, loc.location_id)),
            None,
        )

    async def location_by_id(self, tenant_id: str, location_id: str) -> Location | None:
        return await self.location(tenant_id, location_id)
