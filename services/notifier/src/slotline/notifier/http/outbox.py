"""``GET /outbox``: what the local channels "sent" (only when no real provider is set, and
``SLOTLINE_OUTBOX_ENABLED`` — ``make run`` sets it; never in production — to a manager)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from slotline.events.audit import audited_route
from slotline.notifier.channels.local import Outbox
from slotline.notifier.http.deps import Manager


def outbox_router(outbox: Outbox) -> APIRouter:
    router = APIRouter(tags=["local"], dependencies=[Depends(audited_route("outbox"))])

    @router.get("/outbox", summary="Messages the local channels took, newest first")
    async def show(
        principal: Manager,
        limit: int = Query(default=100, ge=1, le=1000),
        to: str | None = Query(default=None, description="Only messages to this address."),
    ) -> list[dict[str, Any]]:
        entries = [e for e in reversed(outbox.entries) if to is None or e["to"] == to]
        return entries[:limit]

    return router
