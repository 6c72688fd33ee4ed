"""The board feed: every committed change of a booking's row, pushed to the front
desks of its tenant (the shared NOTIFY feed of ``slotline.events.feed``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from slotline.booking.live.board import BOARD_CHANGED_CHANNEL
from slotline.events.feed import FeedSubscriber, NotifyFeed


@dataclass(frozen=True)
class BookingChanged:
    tenant_id: str
    booking_id: str
    slot_start: str
    status: str

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> BookingChanged:
        return cls(
            str(data["tenant_id"]),
            str(data["booking_id"]),
            str(data["slot_start"]),
            str(data["status"]),
        )


class BoardFeed(NotifyFeed[BookingChanged]):
    name = "booking-board-feed"

    def __init__(self, database_url: str, queue_size: int = 256) -> None:
        super().__init__(
            database_url, BOARD_CHANGED_CHANNEL, BookingChanged.from_payload, queue_size
        )

    @asynccontextmanager
    async def subscribe(self, tenant_id: str) -> AsyncIterator[FeedSubscriber[BookingChanged]]:
        async with self.subscribe_where(lambda change: change.tenant_id == tenant_id) as desk:
            yield desk
