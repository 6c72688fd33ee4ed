"""The four-field form and what happens when it is sent.

``GET …/book?start=`` shows the form for an offered slot (a time not offered goes back
to the calendar). ``POST …/book`` sends the request through the booking service as
the ``web`` channel; a deposit asked by the policy first shows the payment step. The
outcome: confirmed or under way → the booking's page; the slot was taken meanwhile →
the same form, typed details kept, with the nearest free times to pick in place.
A hidden request id makes a double tap one booking.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

import httpx
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from slotline.events.logs import get_logger
from slotline.web import i18n
from slotline.web.domain.calendar import Slot, nearest
from slotline.web.domain.details import Details
from slotline.web.http.deps import Context, Web
from slotline.web.http.payment import SIMULATED_CARDS, card_choice, stripe_step
from slotline.web.http.shop import Key, Shop, Tenant, client_of, now, offered, shop
from slotline.web.rendering import embedded, keep_embed, render

router = APIRouter(tags=["booking page"])


def _slot_at(slots: list[Slot], start: datetime) -> Slot | None:
    return next((s for s in slots if s.start == start and s.free), None)


async def _around(web: Context, found: Shop, start: datetime) -> list[Slot]:
    """Free slots near ``start`` (the day before to the day after), fresh from the view."""
    begin = max(now(), start - timedelta(days=1))
    return [s for s in await offered(web, found, begin, 3) if s.free]


def _start(value: str | None) -> datetime:
    try:
        start = datetime.fromisoformat(value or "")
    except ValueError:
        raise HTTPException(422, "start: not a date and time") from None
    if start.tzinfo is None:
        raise HTTPException(422, "start: give the time with its UTC offset")
    return start


log = get_logger(__name__)


@router.get("/{tenant}/{location}/{service}/book")
async def form(
    tenant: Tenant, location: Key, service: Key, request: Request, web: Web, start: str
) -> Response:
    found = await shop(request, web, tenant, location, service)
    wanted = _start(start).astimezone(found.zone)
    around = await _around(web, found, wanted)
    slot = _slot_at(around, wanted)
    if slot is None:
        return render(
            request,
            "customer/taken.html",
            409,
            shop=found,
            wanted=wanted,
            alternatives=nearest(around, wanted),
        )
    return _form_page(request, found, slot, Details())


@router.post("/{tenant}/{location}/{service}/book")
async def submit(
    tenant: Tenant, location: Key, service: Key, request: Request, web: Web
) -> Response:
    found = await shop(request, web, tenant, location, service)
    fields = {k: str(v) for k, v in (await request.form()).items()}
    wanted = _start(fields.get("start")).astimezone(found.zone)
    slot = Slot(wanted, wanted + timedelta(minutes=found.service.duration_minutes), "available")
    details = Details.of(fields)
    request_id = fields.get("request_id") or str(uuid4())
    if not details.check():
        return _form_page(request, found, slot, details, request_id, status_code=422)
    wait = web.throttle.retry_after(client_of(request, web), tenant)
    if wait is not None:
        return _form_page(request, found, slot, details, request_id, status_code=429, wait=wait)
    token = card_choice(fields.get("card"))
    due = found.service.due_now
    if due and token is None:
        return render(
            request,
            "customer/payment.html",
            shop=found,
            slot=slot,
            details=details,
            request_id=request_id,
            due=due,
            cards=SIMULATED_CARDS,
            failure=None,
            stripe=await stripe_step(web, found.token, request_id, due, details),
        )
    answer = await web.services.booking.request(
        found.token, _booking_form(found, wanted, details, request_id, token), request_id
    )
    return await answered(request, web, found, slot, details, request_id, answer)


async def answered(
    request: Request,
    web: Context,
    found: Shop,
    slot: Slot,
    details: Details,
    request_id: str,
    answer: httpx.Response,
) -> Response:
    """The page for booking's answer to a booking request (from the form, or back from
    Stripe): the booking's page, the payment step again, the nearest other times, or
    the form with booking's field errors."""
    card: dict[str, Any] = answer.json()
    if answer.status_code in (201, 202):
        manage = urlsplit(card["manage_url"]).path
        return RedirectResponse(keep_embed(f"{manage}?booked=1", embedded(request)), 303)
    if answer.status_code == 409 and card.get("reason") == "payment_failed":
        due = found.service.due_now or {}
        again = str(uuid4())  # a declined payment's request stays declined
        return render(
            request,
            "customer/payment.html",
            402,
            shop=found,
            slot=slot,
            details=details,
            request_id=again,
            due=due,
            cards=SIMULATED_CARDS,
            failure=card.get("detail") or "",
            stripe=await stripe_step(web, found.token, again, due, details),
        )
    if answer.status_code == 409:
        around = await _around(web, found, slot.start)
        return _form_page(
            request,
            found,
            slot,
            details,
            str(uuid4()),  # the refused request stays refused: a new choice is a new request
            status_code=409,
            alternatives=nearest(around, slot.start),
        )
    if answer.status_code == 422:
        if details.refused(card.get("errors", [])):  # none of the customer's fields: say why
            log.warning("booking refused the request", errors=card.get("errors"))
            details.errors["note"] = "check_field"
        return _form_page(request, found, slot, details, request_id, status_code=422)
    raise HTTPException(502, f"booking answered {answer.status_code}")


def _booking_form(
    found: Shop, start: datetime, details: Details, request_id: str, payment_token: str | None
) -> dict[str, Any]:
    form: dict[str, Any] = {
        "name": details.name,
        "phone": details.phone or None,
        "email": details.email or None,
        "notes": details.note or None,
        "language": i18n.current(),
        "service_id": found.service.service_id,
        "location_id": found.location.location_id,
        "start": start.isoformat(),
        "request_id": request_id,
        "channel": "web",
    }
    if payment_token:
        form["payment_token"] = payment_token
    return form


def _form_page(
    request: Request,
    found: Shop,
    slot: Slot,
    details: Details,
    request_id: str | None = None,
    *,
    status_code: int = 200,
    alternatives: list[Slot] | None = None,
    wait: int | None = None,
) -> Response:
    return render(
        request,
        "customer/form.html",
        status_code,
        shop=found,
        slot=slot,
        details=details,
        request_id=request_id or str(uuid4()),
        alternatives=alternatives,
        wait=wait,
    )
