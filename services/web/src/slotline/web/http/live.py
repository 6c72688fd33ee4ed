"""Live updates for open pages (Server-Sent Events), relayed from the services' own
feeds with this page's credentials: the customer's calendar (availability's slot
feed), the day sheet (booking's board feed and the location's slot feed) and the
callback queue (call-intake's queue feed). Each event only says "changed": the page
fetches its fresh fragment, so what it shows is always what a reload would show."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import suppress
from typing import Any

from fastapi import APIRouter, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from slotline.web.clients.upstream import ServiceUnavailable, StreamEvent
from slotline.web.http.console_session import StaffSession
from slotline.web.http.deps import Web
from slotline.web.http.shop import Key, Tenant, shop

router = APIRouter(tags=["live"])

Feed = Callable[[], AsyncIterator[StreamEvent]]
CHANGES = {"slots", "booking", "task", "queue"}


async def _merged(*feeds: Feed) -> AsyncIterator[ServerSentEvent]:
    """``ready`` once every feed is subscribed, then ``changed`` per change; ``resync``
    (and the end) when a feed stops — the browser reconnects and reloads its view."""
    queue: asyncio.Queue[StreamEvent | None] = asyncio.Queue()

    async def pump(feed: Feed) -> None:
        try:
            async for event in feed():
                await queue.put(event)
        except ServiceUnavailable:
            pass
        await queue.put(None)

    tasks = [asyncio.create_task(pump(feed)) for feed in feeds]
    try:
        ready = 0
        while True:
            event = await queue.get()
            if event is None or event.event == "resync":
                yield ServerSentEvent(event="resync", data="{}")
                return
            if event.event == "ready":
                ready += 1
                if ready == len(feeds):
                    yield ServerSentEvent(event="ready", data="{}")
            elif event.event in CHANGES:
                yield ServerSentEvent(event="changed", data=json.dumps(_hint(event)))
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError):
                await task


def _hint(event: StreamEvent) -> dict[str, Any]:
    data = event.json()
    return {"day": data.get("day")} if isinstance(data, dict) and "day" in data else {}


@router.get("/{tenant}/{location}/{service}/live")
async def calendar_changes(
    tenant: Tenant, location: Key, service: Key, request: Request, web: Web
) -> EventSourceResponse:
    found = await shop(request, web, tenant, location, service)
    slots = web.services.availability

    def feed() -> AsyncIterator[StreamEvent]:
        return slots.slot_changes(found.token, found.location.location_id, found.service.service_id)

    return EventSourceResponse(_merged(feed), ping=15)


@router.get("/console/live/today")
async def day_sheet_changes(session: StaffSession, web: Web, location: str) -> EventSourceResponse:
    token = session.token

    def board() -> AsyncIterator[StreamEvent]:
        return web.services.booking.board_changes(token)

    def slots() -> AsyncIterator[StreamEvent]:
        return web.services.availability.slot_changes(token, location, None)

    return EventSourceResponse(_merged(board, slots), ping=15)


@router.get("/console/live/callbacks")
async def queue_changes(session: StaffSession, web: Web) -> EventSourceResponse:
    def queue() -> AsyncIterator[StreamEvent]:
        return web.services.call_intake.queue_changes(session.token)

    async def with_ready() -> AsyncIterator[ServerSentEvent]:
        yield ServerSentEvent(event="ready", data="{}")
        async for event in _merged(queue):
            if event.event != "ready":
                yield event

    return EventSourceResponse(with_ready(), ping=15)
