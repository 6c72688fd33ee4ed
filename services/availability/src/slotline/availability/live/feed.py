"""The slot feed: every recomputed day of the live view, pushed to subscribed clients
whose tenant, location and service match (the shared NOTIFY feed of
``slotline.events.feed``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from slotline.availability.live.board import SLOTS_CHANGED_CHANNEL
from slotline.events.feed import FeedSubscriber, NotifyFeed


@dataclass(frozen=True)
class DayChanged:
    tenant_id: str
    service_id: str
    location_id: str
    day: str
    revision: int

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> DayChanged:
        return cls(
            tenant_id=data["tenant_id"],
            service_id=data["service_id"],
            location_id=data["location_id"],
            day=data["day"],
            revision=int(data["revision"]),
        )


class SlotFeed(NotifyFeed[DayChanged]):
    name = "slot-feed"

    def __init__(self, database_url: str, queue_size: int = 256) -> None:
        super().__init__(database_url, SLOTS_CHANGED_CHANNEL, DayChanged.from_payload, queue_size)

    @asynccontextmanager
    async def subscribe(
        self, tenant_id: str, location_id: str | None, service_id: str | None
    ) -> AsyncIterator[FeedSubscriber[DayChanged]]:
        def wants(change: DayChanged) -> bool:
            return (
                change.tenant_id == tenant_id
                and location_id in (None, change.location_id)
                and service_id in (None, change.service_id)
            )

        async with self.subscribe_where(wants) as subscriber:
            yield subscriber
