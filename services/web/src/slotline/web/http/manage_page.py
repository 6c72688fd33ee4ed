"""The manage link (``/v1/manage/{token}``, the URL in every confirmation, SMS and
e-mail): in a browser a page — status, time, what was paid, the terms in plain words,
add to calendar, receipt, cancel or move with the fee or refund shown before the
customer confirms; for an API client (``Accept: application/json``) the booking
service's answer, passed on unchanged, so the link keeps meaning one thing."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sse_starlette import EventSourceResponse, ServerSentEvent

from slotline.web.domain.calendar import days, first_bookable, slots_from
from slotline.web.domain.calendar_links import google_calendar_url
from slotline.web.http.deps import Context, Web
from slotline.web.http.errors import wants_json
from slotline.web.http.shop import brand_page, now
from slotline.web.rendering import embedded, keep_embed, render

router = APIRouter(prefix="/v1/manage/{token}", tags=["manage link"])

Token = Annotated[str, Path(min_length=20, max_length=2048)]


def _passed_on(answer: Any) -> Response:
    kept = {k: v for k, v in answer.headers.items() if k.lower() in ("content-type", "location")}
    return Response(answer.content, answer.status_code, headers=kept)


async def _card(request: Request, web: Context, token: str) -> dict[str, Any]:
    card = await web.services.booking.card(token)
    if card is None:
        raise HTTPException(404, "manage link not valid")
    brand_page(request, web, card["tenant_id"])
    zone = ZoneInfo(card["time_zone"])
    card["local_start_at"] = datetime.fromisoformat(card["start"]).astimezone(zone)
    card["local_end_at"] = datetime.fromisoformat(card["end"]).astimezone(zone)
    card["local_free_until"] = datetime.fromisoformat(card["free_cancellation_until"]).astimezone(
        zone
    )
    return card


@router.get("")
async def manage(token: Token, request: Request, web: Web) -> Response:
    if wants_json(request):
        return _passed_on(await web.services.booking.manage("GET", token, ""))
    card = await _card(request, web, token)
    settled = card["status"] not in ("pending", "held")
    terms = await web.services.booking.terms(token) if card["status"] == "confirmed" else None
    receipts: list[dict[str, Any]] = []
    if card.get("paid"):
        channel = web.credentials.for_tenant(card["tenant_id"])
        receipts = await web.services.payments.receipts(channel, card["booking_id"])
    where = ", ".join(p for p in (card["location_name"], card.get("address")) if p)
    google = google_calendar_url(
        f"{card['service_name']} ({card['reference']})",
        card["local_start_at"],
        card["local_end_at"],
        where,
        f"{web.settings.web_public_url}/v1/manage/{token}",
    )
    return render(
        request,
        "customer/manage.html",
        card=card,
        token=token,
        terms=terms,
        receipts=receipts,
        google=google,
        settled=settled,
        booked=request.query_params.get("booked") == "1",
        done=request.query_params.get("done"),
    )


@router.get("/cancel")
async def cancel_page(token: Token, request: Request, web: Web) -> Response:
    card = await _card(request, web, token)
    terms = await web.services.booking.terms(token)
    return render(request, "customer/cancel.html", card=card, token=token, terms=terms)


@router.post("/cancel")
async def cancel(token: Token, request: Request, web: Web) -> Response:
    if not _is_form(request):
        body = await request.body()
        return _passed_on(
            await web.services.booking.manage(
                "POST", token, "/cancel", content=body, headers={"Content-Type": "application/json"}
            )
        )
    reason = str((await request.form()).get("reason", "")).strip()[:500] or None
    answer = await web.services.booking.manage("POST", token, "/cancel", json={"reason": reason})
    if answer.status_code == 200:
        return RedirectResponse(
            keep_embed(f"/v1/manage/{token}?done=cancelled", embedded(request)), 303
        )
    card = await _card(request, web, token)
    terms = await web.services.booking.terms(token)
    return render(
        request, "customer/cancel.html", 409, card=card, token=token, terms=terms, refused=True
    )


@router.get("/move")
async def move_page(
    token: Token, request: Request, web: Web, day: date | None = None, fragment: bool = False
) -> Response:
    card = await _card(request, web, token)
    return await _move_page(request, web, token, card, day, fragment=fragment)


async def _move_page(
    request: Request,
    web: Context,
    token: str,
    card: dict[str, Any],
    day: date | None,
    *,
    status_code: int = 200,
    refused: bool = False,
    fragment: bool = False,
) -> Response:
    zone = ZoneInfo(card["time_zone"])
    count = web.settings.web_slot_days
    today = now().astimezone(zone).date()
    until = datetime.combine(today + timedelta(days=count), datetime.min.time(), zone)
    rows = await web.services.availability.slots(
        web.credentials.for_tenant(card["tenant_id"]),
        location_id=card["location_id"],
        service_id=card["service_id"],
        start=now(),
        until=until,
        include_booked=True,
    )
    calendar_days = days(slots_from(rows, zone), today, count)
    chosen = next((d for d in calendar_days if d.day == day), None) or first_bookable(calendar_days)
    terms = await web.services.booking.terms(token)
    return render(
        request,
        "customer/move_fragment.html" if fragment else "customer/move.html",
        status_code,
        card=card,
        token=token,
        terms=terms,
        days=calendar_days,
        chosen=chosen,
        refused=refused,
    )


@router.post("/reschedule")
async def reschedule(token: Token, request: Request, web: Web) -> Response:
    if not _is_form(request):
        body = await request.body()
        return _passed_on(
            await web.services.booking.manage(
                "POST",
                token,
                "/reschedule",
                content=body,
                headers={"Content-Type": "application/json"},
            )
        )
    start = str((await request.form()).get("start", ""))
    answer = await web.services.booking.manage("POST", token, "/reschedule", json={"start": start})
    if answer.status_code in (200, 202):
        return RedirectResponse(
            keep_embed(f"/v1/manage/{token}?done=moved", embedded(request)), 303
        )
    card = await _card(request, web, token)
    return await _move_page(request, web, token, card, None, status_code=409, refused=True)


@router.post("/claim")
async def claim(token: Token, request: Request, web: Web) -> Response:
    """Take the waitlist offer this link holds (the link in the offer's message, and the
    place page's button): booked → the confirmation; too late → the page says what it is."""
    answer = await web.services.booking.manage("POST", token, "/claim")
    if not _is_form(request):
        return _passed_on(answer)
    booked = "?booked=1" if answer.status_code == 200 else ""
    return RedirectResponse(keep_embed(f"/v1/manage/{token}{booked}", embedded(request)), 303)


@router.get("/booking.ics")
async def calendar_file(token: Token, web: Web) -> Response:
    return _passed_on_file(await web.services.booking.manage("GET", token, "/booking.ics"))


@router.get("/terms")
async def terms(token: Token, web: Web) -> Response:
    return _passed_on(await web.services.booking.manage("GET", token, "/terms"))


@router.get("/events")
async def outcome_events(token: Token, web: Web) -> EventSourceResponse:
    """The booking service's outcome stream, passed on (the page's script follows it)."""

    async def events() -> Any:
        async for event in web.services.booking.outcome_changes(token):
            yield ServerSentEvent(event=event.event, data=event.data)

    return EventSourceResponse(events(), ping=15)


@router.get("/manifest.webmanifest")
async def manifest(token: Token, request: Request, web: Web) -> Response:
    """Saving the booking to the home screen opens it again."""
    card = await _card(request, web, token)
    brand = web.brands.of(card["tenant_id"])
    body = {
        "name": f"{brand.name}: {card['service_name']}",
        "short_name": brand.name[:12],
        "start_url": f"/v1/manage/{token}",
        "scope": f"/v1/manage/{token}",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": brand.colour,
        "icons": [
            {"src": f"/{card['tenant_id']}/icon.svg", "sizes": "any", "type": "image/svg+xml"}
        ],
    }
    return JSONResponse(body, media_type="application/manifest+json")


def _passed_on_file(answer: Any) -> Response:
    if answer.status_code != 200:
        raise HTTPException(404, "manage link not valid")
    headers = {
        "Content-Disposition": answer.headers.get("content-disposition", "attachment"),
        "Cache-Control": "no-store",
    }
    return Response(answer.content, 200, media_type="text/calendar", headers=headers)


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "")
    return kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


def manage_path(manage_url: str) -> str:
    return urlsplit(manage_url).path
