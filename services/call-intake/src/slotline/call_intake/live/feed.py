"""The queue feed: every callback task change, pushed to the front desks of its tenant.

One LISTEN connection per process hears the projection's NOTIFY (sent when a task's
row commits) and hands it to each subscriber of that tenant. A subscriber that falls
behind by ``queue_size`` changes is dropped (it reconnects and reads the queue afresh).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from slotline.call_intake.live.tables import QUEUE_CHANGED_CHANNEL
from slotline.events.feed import FeedSubscriber, NotifyFeed


@dataclass(frozen=True)
class TaskChanged:
    tenant_id: str
    task_id: str

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> TaskChanged:
        return cls(str(data["tenant_id"]), str(data["task_id"]))


class QueueFeed(NotifyFeed[TaskChanged]):
    """Background task: LISTEN for task changes and hand them to the tenant's desks."""

    name = "callback-queue-feed"

    def __init__(self, database_url: str, queue_size: int = 256) -> None:
        super().__init__(database_url, QUEUE_CHANGED_CHANNEL, TaskChanged.from_payload, queue_size)

    @asynccontextmanager
    async def subscribe(self, tenant_id: str) -> AsyncIterator[FeedSubscriber[TaskChanged]]:
        async with self.subscribe_where(lambda change: change.tenant_id == tenant_id) as desk:
            yield desk
