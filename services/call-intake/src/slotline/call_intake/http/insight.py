"""The caller's timeline and the speed-to-lead figures, from the read model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, cast

from eventsourcing.postgres import PostgresProcessRecorder
from fastapi import APIRouter, Depends, Path, Query
from fastapi.exceptions import RequestValidationError

from slotline.call_intake.http.deps import Figures, FrontDesk, Intake, schema_of
from slotline.call_intake.live import tables
from slotline.events.audit import audited, fingerprint
from slotline.events.clock import Instant

router = APIRouter(tags=["insight"])
_OFFSET = "give a UTC offset, e.g. 2026-12-07T10:00:00+02:00"


@router.get(
    "/v1/callers/{phone}/timeline",
    # the trail keeps a digest of the number, not the number
    dependencies=[Depends(audited("caller", lambda r: fingerprint(r.path_params["phone"])))],
)
def caller_timeline(
    phone: Annotated[str, Path(pattern=r"^\+[1-9]\d{6,14}$")], app: Intake, desk: FrontDesk
) -> list[dict[str, Any]]:
    """Earlier calls, text-backs, voicemails, tasks, messages and bookings, oldest first."""
    recorder = cast(PostgresProcessRecorder, app.process_recorder)
    with recorder.datastore.transaction(commit=False) as cursor:
        return tables.timeline(cursor, schema_of(app), desk.tenant_id, phone, app.read_seal)


@router.get(
    "/v1/speed-to-lead", dependencies=[Depends(audited("report", lambda r: "speed_to_lead"))]
)
def speed_to_lead(
    app: Intake,
    who: Figures,
    since: Annotated[Instant | None, Query(alias="from")] = None,
    until: Instant | None = None,
) -> dict[str, Any]:
    """Missed-call rate, time to first callback (median, p90), share within SLA, conversion.

    Defaults to the last 30 days. Time to first response counts from the task's creation
    to its first callback attempt (or the customer reached).
    """
    for name, value in (("from", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise RequestValidationError(
                [{"loc": ("query", name), "type": "timezone_aware", "msg": _OFFSET}]
            )
    until = until or datetime.now(UTC) + timedelta(minutes=1)
    since = since or until - timedelta(days=30)
    recorder = cast(PostgresProcessRecorder, app.process_recorder)
    with recorder.datastore.transaction(commit=False) as cursor:
        raw = tables.speed_to_lead(cursor, schema_of(app), who.tenant_id, since, until)
    calls, tasks = raw["calls"], raw["tasks"]

    def share(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    return {
        "from": since,
        "until": until,
        "calls": calls["calls"],
        "missed_calls": calls["missed"],
        "missed_call_rate": share(calls["missed"], calls["calls"]),
        "callback_tasks": tasks["tasks"],
        "first_response_median_seconds": tasks["median"],
        "first_response_p90_seconds": tasks["p90"],
        "callbacks_within_sla": share(tasks["within_sla"], tasks["decided"]),
        "call_to_booking_conversion": share(calls["booked"], calls["calls"]),
        "missed_call_recovery": share(calls["recovered"], calls["missed"]),
    }
