"""Free slots from the live view, and a Server-Sent Events stream of their changes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated, Any
from uuid import UUID

import anyio
from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from sse_starlette import EventSourceResponse, ServerSentEvent

from slotline.availability.application import AvailabilityApplication
from slotline.availability.http.deps import Availability, Staff
from slotline.availability.http.rows import renamed
from slotline.availability.live import queries
from slotline.availability.live.feed import DayChanged, SlotFeed
from slotline.availability.live.queries import SlotQuery
from slotline.events.clock import Instant
from slotline.events.http_contract import EventStream

router = APIRouter(prefix="/v1/slots", tags=["slots"])
_OFFSET = "give a UTC offset, e.g. 2026-12-07T10:00:00+02:00"


def _schema(app: AvailabilityApplication) -> str:
    return app.schema


@router.get("", response_model=list[dict[str, Any]])
def list_slots(
    app: Availability,
    caller: Staff,
    location_id: UUID | None = None,
    service_id: UUID | None = None,
    resource_id: Annotated[
        UUID | None, Query(description="Only slots this staff member or resource is free for.")
    ] = None,
    duration_minutes: Annotated[int | None, Query(ge=1, le=1440)] = None,
    start_from: Annotated[Instant | None, Query(alias="from")] = None,
    until: Instant | None = None,
    include_booked: bool = False,
    limit: Annotated[int, Query(ge=1, le=2000)] = 100,
) -> Response:
    """Bookable slots, next available first, answered from the live view (as the JSON
    PostgreSQL builds: nothing is decoded and encoded again here)."""
    for name, value in (("from", start_from), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise RequestValidationError(
                [{"loc": ("query", name), "type": "timezone_aware", "msg": _OFFSET}]
            )
    query = SlotQuery(
        caller.tenant_id,
        location_id=location_id,
        service_id=service_id,
        resource_id=resource_id,
        duration_minutes=duration_minutes,
        start_from=start_from,
        until=until,
        include_booked=include_booked,
        limit=limit,
    )
    with app.reading_once() as cursor:
        answer = queries.find_slots_json(cursor, _schema(app), query, app.clock())
    return Response(answer, media_type="application/json")


@router.get("/stream", response_class=EventStream)
async def stream_slots(
    request: Request,
    app: Availability,
    caller: Staff,
    location_id: UUID | None = None,
    service_id: UUID | None = None,
) -> EventSourceResponse:
    """Each change of a matching day's slots, as a ``slots`` event with the whole day.

    The first event, ``ready``, says the subscription is live; after a reconnect, read
    ``GET /v1/slots`` again (changes made while away are not replayed).
    """
    feed = _feed(request)
    tenant = caller.tenant_id

    async def events() -> AsyncIterator[ServerSentEvent]:
        async with feed.subscribe(
            tenant,
            str(location_id) if location_id else None,
            str(service_id) if service_id else None,
        ) as subscriber:
            yield ServerSentEvent(event="ready", data=json.dumps({"subscribed": True}))
            while True:
                change = await subscriber.queue.get()
                if change is None:
                    yield ServerSentEvent(event="resync", data=json.dumps({"reason": "lagging"}))
                    return
                day = await anyio.to_thread.run_sync(_day_of, app, change)
                yield ServerSentEvent(event="slots", id=str(change.revision), data=json.dumps(day))

    return EventSourceResponse(events(), ping=15)


def _day_of(app: AvailabilityApplication, change: DayChanged) -> dict[str, Any]:
    day = date.fromisoformat(change.day)
    with app.reading_once() as cursor:
        rows = queries.day_view(
            cursor, _schema(app), UUID(change.service_id), UUID(change.location_id), day
        )
    return {
        "service_id": change.service_id,
        "location_id": change.location_id,
        "day": change.day,
        "revision": change.revision,
        "slots": [renamed(row, start="slot_start", end="slot_end") for row in rows],
    }


def _feed(request: Request) -> SlotFeed:
    for task in request.app.state.runtime.background:
        if isinstance(task, SlotFeed):
            return task
    raise HTTPException(503, "the slot feed is not running")
