"""``GET /v1/bookings/stream``: the day sheet's changes as Server-Sent Events, so a
second front-desk screen shows a booking made on the first without a reload."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import asdict

from fastapi import APIRouter, HTTPException, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from slotline.booking.http.audit_points import DAY_SHEET
from slotline.booking.http.deps import Staff
from slotline.booking.live.board_feed import BoardFeed
from slotline.events.http_contract import EventStream

router = APIRouter(tags=["bookings"])


@router.get("/v1/bookings/stream", response_class=EventStream, dependencies=[DAY_SHEET])
async def board_stream(request: Request, principal: Staff) -> EventSourceResponse:
    """``ready``, then one ``booking`` event (id, start, status) per committed change;
    ``resync`` when this client fell behind (read ``GET /v1/bookings`` again)."""
    feed = _feed(request)

    async def events() -> AsyncIterator[ServerSentEvent]:
        async with feed.subscribe(principal.tenant_id) as desk:
            yield ServerSentEvent(event="ready", data=json.dumps({"subscribed": True}))
            while True:
                change = await desk.queue.get()
                if change is None:
                    yield ServerSentEvent(event="resync", data=json.dumps({"reason": "lagging"}))
                    return
                yield ServerSentEvent(event="booking", data=json.dumps(asdict(change)))

    return EventSourceResponse(events(), ping=15)


def _feed(request: Request) -> BoardFeed:
    for task in request.app.state.runtime.background:
        if isinstance(task, BoardFeed):
            return task
    raise HTTPException(503, "the board feed is not running")
