"""The front desk acts on bookings: book for a caller from a free cell (channel
``phone``: the cell, then Book), and on one booking — arrived, completed, no-show,
cancel (fee or refund shown first) or move to another free time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from slotline.web import i18n
from slotline.web.catalog import Location
from slotline.web.domain.calendar import days, first_bookable, nearest, slots_from
from slotline.web.domain.details import Details
from slotline.web.http.console_session import CheckedForm, StaffSession
from slotline.web.http.console_today import staff_location
from slotline.web.http.deps import Context, Web
from slotline.web.rendering import render

router = APIRouter(prefix="/console", tags=["console"])

ACTIONS = {"arrived": "arrived", "complete": "completed", "no-show": "no_show"}


def _when(value: str | None) -> datetime:
    try:
        moment = datetime.fromisoformat(value or "")
    except ValueError:
        raise HTTPException(422, "start: not a date and time") from None
    if moment.tzinfo is None:
        raise HTTPException(422, "start: give the time with its UTC offset")
    return moment


async def _offers(
    web: Context, token: str, place: Location, start: datetime, resource: str | None
) -> list[dict[str, Any]]:
    """Free slots of every service starting at ``start`` (with ``resource`` if given)."""
    return await web.services.availability.slots(
        token,
        location_id=place.location_id,
        resource_id=resource or None,
        start=start,
        until=start + timedelta(minutes=1),
    )


@dataclass(frozen=True)
class DeskBooking:
    """What the front desk is booking: where and when, on which resource (if one was
    picked), answering which missed call (blank: none), and the services free then."""

    place: Location
    moment: datetime
    resource: str | None
    call: str
    offers: list[dict[str, Any]]


@router.get("/book")
async def book_page(
    request: Request,
    session: StaffSession,
    web: Web,
    start: str,
    location: str | None = None,
    resource: str | None = None,
    phone: str = "",
    call: str = "",
) -> Response:
    place = await staff_location(web, session.principal.tenant_id, location)
    if place is None:
        raise HTTPException(404, "no location")
    moment = _when(start)
    offers = await _offers(web, session.token, place, moment, resource)
    return _book_form(
        request, DeskBooking(place, moment, resource, call, offers), Details(phone=phone)
    )


def _book_form(
    request: Request,
    booking: DeskBooking,
    details: Details,
    status_code: int = 200,
    problem: str | None = None,
    alternatives: list[Any] | None = None,
) -> Response:
    place = booking.place
    names = {s.service_id: s for s in place.services}
    return render(
        request,
        "console/book.html",
        status_code,
        place=place,
        moment=booking.moment.astimezone(ZoneInfo(place.time_zone)),
        resource=booking.resource or "",
        offers=[o for o in booking.offers if o["service_id"] in names],
        services=names,
        details=details,
        call=booking.call,
        request_id=str(uuid4()),
        problem=problem,
        alternatives=alternatives or [],
    )


@router.post("/book")
async def book(request: Request, session: StaffSession, web: Web, form: CheckedForm) -> Response:
    place = await staff_location(web, session.principal.tenant_id, form.get("location"))
    if place is None:
        raise HTTPException(404, "no location")
    moment = _when(form.get("start"))
    resource = form.get("resource") or None
    details = Details.of(form)
    service_id = form.get("service_id", "")
    offers = await _offers(web, session.token, place, moment, resource)
    desk_booking = DeskBooking(place, moment, resource, form.get("call", ""), offers)
    if not details.check() or not service_id:
        if not service_id:
            details.errors["service_id"] = "service_missing"
        return _book_form(request, desk_booking, details, 422)
    resources = await web.services.availability.resources(session.token, place.location_id)
    kinds = {str(r["id"]): r.get("kind") for r in resources}
    booking: dict[str, Any] = {
        "name": details.name,
        "phone": details.phone or None,
        "email": details.email or None,
        "notes": details.note or None,
        "language": i18n.current(),
        "service_id": service_id,
        "location_id": place.location_id,
        "start": moment.isoformat(),
        "channel": "phone",
        "request_id": form.get("request_id") or str(uuid4()),
    }
    if resource:
        booking["staff_id" if kinds.get(resource) == "staff" else "resource_id"] = resource
    if form.get("call"):
        booking["source_call_id"] = form["call"]
    answer = await web.services.booking.request(session.token, booking, booking["request_id"])
    card = answer.json()
    local_day = moment.astimezone(ZoneInfo(place.time_zone)).date()
    if answer.status_code in (201, 202):
        done = "booked" if answer.status_code == 201 else "booking"
        return RedirectResponse(
            f"/console/today?day={local_day}&location={place.location_id}"
            f"&done={done}&reference={card['reference']}",
            303,
        )
    problem = "taken" if answer.status_code == 409 else "check"
    free = await web.services.availability.slots(
        session.token,
        location_id=place.location_id,
        service_id=service_id,
        start=max(datetime.now(UTC), moment - timedelta(hours=3)),
        until=moment + timedelta(hours=6),
    )
    alternatives = nearest(slots_from(free, ZoneInfo(place.time_zone)), moment)
    return _book_form(request, desk_booking, details, 409, problem, alternatives)


@router.get("/bookings/{booking_id}")
async def booking_page(
    booking_id: str, request: Request, session: StaffSession, web: Web
) -> Response:
    card = await web.services.booking.booking(session.token, booking_id)
    if card is None:
        raise HTTPException(404, "no such booking")
    terms = await web.services.booking.staff_terms(session.token, booking_id)
    zone = ZoneInfo(card["time_zone"])
    card["local_start_at"] = datetime.fromisoformat(card["start"]).astimezone(zone)
    return render(
        request,
        "console/booking.html",
        card=card,
        terms=terms,
        done=request.query_params.get("done"),
        problem=request.query_params.get("problem"),
    )


@router.post("/bookings/{booking_id}/{action}")
async def act(
    booking_id: str, action: str, session: StaffSession, web: Web, form: CheckedForm
) -> Response:
    if action == "cancel":
        answer = await web.services.booking.act(
            session.token, booking_id, "cancel", json={"reason": form.get("reason") or None}
        )
        done = "cancelled"
    elif action == "move":
        answer = await web.services.booking.act(
            session.token, booking_id, "reschedule", json={"start": form.get("start", "")}
        )
        done = "moved"
    elif action in ACTIONS:
        answer = await web.services.booking.act(session.token, booking_id, action)
        done = ACTIONS[action]
    else:
        raise HTTPException(404, "no such action")
    if answer.status_code in (200, 202):
        return RedirectResponse(f"/console/bookings/{booking_id}?done={done}", 303)
    problem = "not_yet" if answer.status_code == 409 and action in ACTIONS else "refused"
    return RedirectResponse(f"/console/bookings/{booking_id}?problem={problem}", 303)


@router.get("/bookings/{booking_id}/move")
async def move_page(
    booking_id: str, request: Request, session: StaffSession, web: Web, day: date | None = None
) -> Response:
    card = await web.services.booking.booking(session.token, booking_id)
    if card is None:
        raise HTTPException(404, "no such booking")
    zone = ZoneInfo(card["time_zone"])
    today = datetime.now(UTC).astimezone(zone).date()
    count = web.settings.web_slot_days
    rows = await web.services.availability.slots(
        session.token,
        location_id=card["location_id"],
        service_id=card["service_id"],
        start=datetime.now(UTC),
        until=datetime.combine(today + timedelta(days=count), datetime.min.time(), zone),
        include_booked=True,
    )
    calendar_days = days(slots_from(rows, zone), today, count)
    chosen = next((d for d in calendar_days if d.day == day), None) or first_bookable(calendar_days)
    terms = await web.services.booking.staff_terms(session.token, booking_id)
    return render(
        request, "console/move.html", card=card, days=calendar_days, chosen=chosen, terms=terms
    )
