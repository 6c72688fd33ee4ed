"""Callbacks: the missed-call and lead queue, most urgent first, each with its SLA
countdown and colour; one click to call (``tel:``), text (``sms:``) or book, and the
outcome recorded with one more (reached closes the task)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from slotline.web.domain.urgency import countdown, urgency
from slotline.web.http.console_session import CheckedForm, StaffSession
from slotline.web.http.deps import Web
from slotline.web.rendering import render

router = APIRouter(prefix="/console/callbacks", tags=["console"])

RESULTS = {"reached", "no_answer", "left_message"}


@router.get("")
async def queue(
    request: Request, session: StaffSession, web: Web, fragment: bool = False
) -> Response:
    now = datetime.now(UTC)
    tasks = await web.services.call_intake.queue(session.token)
    for task in tasks:
        deadline = datetime.fromisoformat(str(task["deadline"]))
        task["urgency"] = urgency(deadline, now)
        task["left"] = countdown(deadline, now)
        task["deadline_iso"] = deadline.isoformat()
    return render(
        request,
        "console/callbacks_fragment.html" if fragment else "console/callbacks.html",
        tasks=tasks,
        done=request.query_params.get("done"),
        problem=request.query_params.get("problem"),
    )


@router.post("/{task_id}/{action}")
async def act(
    task_id: str, action: str, session: StaffSession, web: Web, form: CheckedForm
) -> Response:
    if action == "claim":
        answer = await web.services.call_intake.act(session.token, task_id, "claim")
    elif action == "attempt" and form.get("result") in RESULTS:
        answer = await web.services.call_intake.act(
            session.token, task_id, "attempts", json={"result": form["result"]}
        )
    elif action == "close":
        answer = await web.services.call_intake.act(
            session.token, task_id, "close", json={"outcome": "gave_up"}
        )
    else:
        raise HTTPException(404, "no such action")
    if answer.status_code == 200:
        return RedirectResponse(f"/console/callbacks?done={action}", 303)
    return RedirectResponse("/console/callbacks?problem=taken", 303)
