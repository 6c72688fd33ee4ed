"""The front desk's callback queue: most urgent first, live over SSE; claim, attempt, close."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, Literal, cast
from uuid import UUID

import anyio
from eventsourcing.postgres import PostgresProcessRecorder
from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field
from sse_starlette import EventSourceResponse, ServerSentEvent

from slotline.call_intake.application import CallIntakeApplication, CustomerMessage
from slotline.call_intake.domain.callback import Attempt, CallbackTask, Closure
from slotline.call_intake.http.deps import FrontDesk, Intake, Intakes, schema_of
from slotline.call_intake.live import tables
from slotline.call_intake.live.feed import QueueFeed
from slotline.events.audit import audited_route
from slotline.events.http_contract import EventStream

router = APIRouter(
    tags=["callbacks"],
    dependencies=[Depends(audited_route("callback_task", task_id="callback_task"))],
)


class AttemptIn(BaseModel):
    result: Attempt = Field(description="reached, no_answer or left_message.")


class CloseIn(BaseModel):
    outcome: Literal["reached", "gave_up"] = Field(
        description="Bookings close tasks by themselves."
    )


class LeadIn(BaseModel):
    lead_id: str = Field(
        min_length=1, max_length=128, description="The form's id; repeats ignored."
    )
    phone: str = Field(pattern=r"^\+[1-9]\d{6,14}$")
    text: str | None = Field(default=None, max_length=4096)
    name: str | None = Field(default=None, max_length=200)


def _recorder(app: CallIntakeApplication) -> PostgresProcessRecorder:
    return cast(PostgresProcessRecorder, app.process_recorder)


def _queue(app: CallIntakeApplication, tenant_id: str) -> list[dict[str, Any]]:
    with _recorder(app).datastore.transaction(commit=False) as cursor:
        rows = tables.open_queue(cursor, schema_of(app), tenant_id)
    return [_row(tables.opened_task(app.read_seal, r)) for r in rows]


def _task_row(app: CallIntakeApplication, task_id: str) -> dict[str, Any] | None:
    with _recorder(app).datastore.transaction(commit=False) as cursor:
        row = tables.task_row(cursor, schema_of(app), UUID(task_id))
    return _row(tables.opened_task(app.read_seal, row)) if row else None


def _row(row: Any) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, UUID) else v) for k, v in dict(row).items()}


def task_json(task: CallbackTask) -> dict[str, Any]:
    return {
        "task_id": str(task.id),
        "customer_phone": task.customer_phone,
        "source": task.source,
        "call_id": str(task.call_id) if task.call_id else None,
        "assigned_to": task.assigned_to,
        "claimed_by": task.claimed_by,
        "created_at": task.created_at,
        "deadline": task.deadline,
        "status": "open" if task.is_open else "closed",
        "outcome": task.closed,
        "attempts": task.attempts,
        "next_attempt_at": task.next_attempt_at,
        "booking_id": task.booking_id,
        "version": task.version,
    }


@router.get("/v1/callbacks")
def callback_queue(app: Intake, desk: FrontDesk) -> list[dict[str, Any]]:
    """Open callback tasks, the earliest SLA deadline first."""
    return _queue(app, desk.tenant_id)


@router.get("/v1/callbacks/stream", response_class=EventStream)
async def callback_stream(request: Request, app: Intake, desk: FrontDesk) -> EventSourceResponse:
    """``queue`` (the open tasks now), then one ``task`` event per change of a task."""
    feed = _feed(request)

    async def events() -> AsyncIterator[ServerSentEvent]:
        async with feed.subscribe(desk.tenant_id) as subscriber:
            queue = await anyio.to_thread.run_sync(_queue, app, desk.tenant_id)
            yield ServerSentEvent(event="queue", data=json.dumps(queue, default=str))
            while True:
                change = await subscriber.queue.get()
                if change is None:
                    yield ServerSentEvent(event="resync", data=json.dumps({"reason": "lagging"}))
                    return
                row = await anyio.to_thread.run_sync(_task_row, app, change.task_id)
                if row is not None:
                    yield ServerSentEvent(
                        event="task",
                        id=f"{change.task_id}:{row['version']}",
                        data=json.dumps(row, default=str),
                    )

    return EventSourceResponse(events(), ping=15)


@router.post("/v1/callbacks/{task_id}/claim")
def claim(task_id: UUID, app: Intake, desk: FrontDesk) -> dict[str, Any]:
    return task_json(app.claim_task(desk.tenant_id, task_id, desk.subject))


@router.post("/v1/callbacks/{task_id}/attempts")
def attempt(task_id: UUID, body: AttemptIn, app: Intake, desk: FrontDesk) -> dict[str, Any]:
    """One call back; reached closes the task, otherwise the retry schedule sets the next."""
    return task_json(app.record_attempt(desk.tenant_id, task_id, desk.subject, body.result))


@router.post("/v1/callbacks/{task_id}/close")
def close(task_id: UUID, body: CloseIn, app: Intake, desk: FrontDesk) -> dict[str, Any]:
    return task_json(app.close_task(desk.tenant_id, task_id, Closure(body.outcome)))


@router.post("/v1/leads", status_code=202)
def web_lead(body: LeadIn, app: Intake, caller: Intakes) -> dict[str, str]:
    """A web form lead: a ``LeadCaptured`` and a callback task (unless one is open)."""
    message = CustomerMessage(
        tenant_id=caller.tenant_id,
        message_id=f"web:{body.lead_id}",
        from_phone=body.phone,
        to_phone=None,
        text=body.text,
        sent_at=datetime.now(UTC),
        profile_name=body.name,
        channel="web",
    )
    return {"result": app.customer_message(message)}


def _feed(request: Request) -> QueueFeed:
    for task in request.app.state.runtime.background:
        if isinstance(task, QueueFeed):
            return task
    raise HTTPException(503, "the queue feed is not running")
