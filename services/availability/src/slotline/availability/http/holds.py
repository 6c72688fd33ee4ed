"""Hold commands over HTTP, for staff tools and channels that do not speak Kafka.

The same use cases as the Kafka commands; a hold is addressed by the caller's
``hold_id`` (its key), so a retried POST returns the hold it placed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, Query, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from slotline.availability.application import HoldRefused, HoldRequest, HoldTaken
from slotline.availability.domain.hold import Hold
from slotline.availability.http.deps import Availability, FrontDesk
from slotline.availability.http.rows import renamed
from slotline.availability.live import queries
from slotline.events.clock import AwareInstant
from slotline.events.http_contract import JSON_INTEGER, refusals
from slotline.events.runtime import Writer
from slotline.events.unit_of_work import UnitOfWork

router = APIRouter(prefix="/v1/holds", tags=["holds"])

OFFERED_ONLY = (
    "Only a start the slot list offers (a customer's request): one off the service's grid"
    " is refused 409 outside_hours, its alternatives the nearest offered starts. False"
    " (staff, explicitly): any start the hours allow."
)


class PlaceHoldBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hold_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="Your id for the hold; send it to make retries safe (generated if absent).",
    )
    request_id: str | None = Field(default=None, max_length=128, description="Booking request.")
    service_id: UUID
    location_id: UUID
    start: AwareInstant = Field(description="Slot start, with its UTC offset.")
    seats: Annotated[int, JSON_INTEGER] = Field(default=1, ge=1, le=100)
    ttl_seconds: Annotated[int, JSON_INTEGER] = Field(default=600, ge=30, le=24 * 3600)
    preferred_resource_id: UUID | None = None
    offered_only: StrictBool = Field(default=False, description=OFFERED_ONLY)


class ReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=200)


class RescheduleBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: AwareInstant = Field(description="The new start, with its UTC offset.")
    preferred_resource_id: UUID | None = None
    offered_only: StrictBool = Field(default=False, description=OFFERED_ONLY)


def hold_json(hold: Hold) -> dict[str, Any]:
    return {
        "hold_id": hold.hold_key,
        "id": str(hold.id),
        "request_id": hold.booking_request_id,
        "service_id": str(hold.service_id),
        "location_id": str(hold.location_id),
        "start": hold.slot.start.isoformat(),
        "end": hold.slot.end.isoformat(),
        "resource_ids": [str(r) for r in hold.resource_ids],
        "seats": hold.seats,
        "status": hold.status.value,
        "expires_at": hold.expires_at.isoformat() if hold.expires_at else None,
    }


def refused_json(refused: HoldRefused) -> JSONResponse:
    return JSONResponse(
        {
            "detail": f"slot not held: {refused.reason.value}",
            "reason": refused.reason.value,
            "alternatives": [
                {"start": a.start.isoformat(), "end": a.end.isoformat()}
                for a in refused.alternatives
            ],
        },
        status_code=status.HTTP_409_CONFLICT,
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=None, responses=refusals(404))
async def place_hold(
    body: PlaceHoldBody, app: Availability, caller: FrontDesk, writer: Writer
) -> dict[str, Any] | JSONResponse:
    """Hold every resource the service needs at ``start``; 409 says why not, 404 that
    the service or location is not in the caller's tenant."""
    request = HoldRequest(
        tenant_id=caller.tenant_id,
        hold_key=body.hold_id or str(uuid4()),
        service_id=body.service_id,
        location_id=body.location_id,
        start=body.start,
        seats=body.seats,
        ttl=timedelta(seconds=body.ttl_seconds),
        preferred_staff_id=body.preferred_resource_id,
        booking_request_id=body.request_id,
        offered_only=body.offered_only,
    )

    def place(work: UnitOfWork) -> HoldRefused | Hold:
        outcome = app.place_hold(request, work=work)
        if isinstance(outcome, HoldRefused):
            return outcome
        hold = work.get(Hold, outcome.hold_id)  # the answer, without reading it back
        assert hold is not None
        return hold

    answer = await writer.run(place)
    return refused_json(answer) if isinstance(answer, HoldRefused) else hold_json(answer)


@router.get("")
def list_holds(
    app: Availability,
    caller: FrontDesk,
    hold_status: Annotated[
        Literal["held", "confirmed", "released", "expired", "cancelled"] | None,
        Query(alias="status"),
    ] = None,
    location_id: UUID | None = None,
    resource_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Holds and allocations from the live view, soonest first."""
    with app.reading_once() as cursor:
        rows = queries.find_holds(
            cursor,
            app.schema,
            caller.tenant_id,
            status=hold_status,
            location_id=location_id,
            resource_id=resource_id,
            limit=limit,
        )
    return [_row_json(row) for row in rows]


@router.get("/{hold_id}")
def get_hold(hold_id: str, app: Availability, caller: FrontDesk) -> dict[str, Any]:
    return hold_json(app.tenant_hold(caller.tenant_id, hold_id))


@router.post("/{hold_id}/confirm")
def confirm_hold(hold_id: str, app: Availability, caller: FrontDesk) -> dict[str, Any]:
    """The hold becomes an allocation; 409 when it already lapsed."""
    hold = app.tenant_hold(caller.tenant_id, hold_id)
    return hold_json(app.confirm_hold(hold.id))


@router.post("/{hold_id}/release")
def release_hold(
    hold_id: str, app: Availability, caller: FrontDesk, body: ReasonBody | None = None
) -> dict[str, Any]:
    hold = app.tenant_hold(caller.tenant_id, hold_id)
    return hold_json(app.release_hold(hold.id, (body.reason if body else "") or "released"))


@router.post("/{hold_id}/cancel")
def cancel_allocation(
    hold_id: str, app: Availability, caller: FrontDesk, body: ReasonBody | None = None
) -> dict[str, Any]:
    hold = app.tenant_hold(caller.tenant_id, hold_id)
    return hold_json(app.cancel_allocation(hold.id, (body.reason if body else "") or "cancelled"))


@router.post("/{hold_id}/reschedule", response_model=None)
def reschedule_hold(
    hold_id: str, body: RescheduleBody, app: Availability, caller: FrontDesk
) -> dict[str, Any] | JSONResponse:
    """Move the hold; the old slot is kept unless the new one is taken."""
    hold = app.tenant_hold(caller.tenant_id, hold_id)
    outcome = app.reschedule_hold(
        hold.id, body.start, body.preferred_resource_id, offered_only=body.offered_only
    )
    if isinstance(outcome, HoldRefused):
        return refused_json(outcome)
    assert isinstance(outcome, HoldTaken)
    return hold_json(app.hold(outcome.hold_id))


def _row_json(row: dict[str, Any]) -> dict[str, Any]:
    return renamed(
        row,
        id="hold_id",
        hold_id="hold_key",
        request_id="booking_request_id",
        start="slot_start",
        end="slot_end",
    )
