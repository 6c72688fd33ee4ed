"""The waitlist from the booking page, when no time of a day suits.

``GET …/waitlist?day=`` shows the form (the day, optionally from / until, the staff
member the page chose, and the same contact fields and checks as the booking form).
``POST …/waitlist`` sends it to booking's public waitlist as the customer (their
address passed on) and redirects to the place page, ``GET …/waitlist/{token}`` (the
place link booking signed): where they stand, how they will hear of an offer and how
long it is held, and the offer once there is one (claimed on its manage link, as the
message's link does); ``POST …/leave`` gives the place up. A refusal re-shows the form
with everything typed: field errors against their fields, too many attempts or a
service not answering as a message that says what to do.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import RedirectResponse, Response

from slotline.web import i18n
from slotline.web.clients.upstream import ServiceUnavailable
from slotline.web.domain.details import Details
from slotline.web.domain.waitlist import RANGE_FIELDS, Wish, local_day
from slotline.web.http.deps import Web
from slotline.web.http.shop import Key, Shop, Tenant, client_of, now, shop
from slotline.web.rendering import embedded, keep_embed, render

router = APIRouter(tags=["booking page"])

PlaceToken = Annotated[str, Path(min_length=20, max_length=2048)]


def _today(found: Shop) -> date:
    return now().astimezone(found.zone).date()


@router.get("/{tenant}/{location}/{service}/waitlist")
async def waitlist_form(
    tenant: Tenant,
    location: Key,
    service: Key,
    request: Request,
    web: Web,
    day: date,
    staff: str = "",
) -> Response:
    found = await shop(request, web, tenant, location, service)
    if day < _today(found):
        return RedirectResponse(keep_embed(found.base, embedded(request)), 303)
    return _form_page(request, found, Wish.of(day, {"staff_id": staff}), Details())


@router.post("/{tenant}/{location}/{service}/waitlist")
async def join(tenant: Tenant, location: Key, service: Key, request: Request, web: Web) -> Response:
    found = await shop(request, web, tenant, location, service)
    fields = {k: str(v) for k, v in (await request.form()).items()}
    day = local_day(fields.get("day"))
    if day is None:
        raise HTTPException(422, "day: not a date (YYYY-MM-DD)")
    wish, details = Wish.of(day, fields), Details.of(fields)
    if found.service.due_now is not None:  # booking would refuse it: no line is open
        return _form_page(request, found, wish, details, status_code=409)
    if not (details.check() & wish.check(_today(found))):
        return _form_page(request, found, wish, details, status_code=422)
    client = client_of(request, web)
    wait = web.throttle.retry_after(client, tenant)
    if wait is not None:
        return _form_page(request, found, wish, details, status_code=429, wait=wait)
    try:
        answer = await web.services.booking.join_waitlist(
            tenant, _waitlist_form(found, wish, details), client
        )
    except ServiceUnavailable:
        return _form_page(request, found, wish, details, status_code=503, notice="unreachable")
    if answer.status_code == 201:
        token = urlsplit(answer.json()["link"]).path.rsplit("/", 1)[-1]
        via = "both" if details.phone and details.email else "phone" if details.phone else "email"
        return RedirectResponse(
            keep_embed(f"{found.base}/waitlist/{token}?via={via}", embedded(request)), 303
        )
    if answer.status_code == 422:
        for name in details.refused(answer.json().get("errors", [])):
            wish.errors[name if name in RANGE_FIELDS else "day"] = "check_field"
        return _form_page(request, found, wish, details, status_code=422)
    if answer.status_code == 429:
        wait = int(answer.headers.get("retry-after", "60") or 60)
        return _form_page(request, found, wish, details, status_code=429, wait=wait)
    if answer.status_code == 409:
        return _form_page(request, found, wish, details, status_code=409, notice="refused")
    raise HTTPException(502, f"booking answered {answer.status_code}")


@router.get("/{tenant}/{location}/{service}/waitlist/{token}")
async def place(
    tenant: Tenant,
    location: Key,
    service: Key,
    token: PlaceToken,
    request: Request,
    web: Web,
    via: str = "",
) -> Response:
    """Where the customer stands in the line (the confirmation, then the offer)."""
    found = await shop(request, web, tenant, location, service)
    card = await _card(web, found, token)
    offer = card.get("offer")
    return render(
        request,
        "customer/waitlist_place.html",
        shop=found,
        card=card,
        token=token,
        day=date.fromisoformat(card["day"]),
        times=_times(found, card),
        via=via if via in ("phone", "email", "both") else "",
        offer_minutes=max(1, math.ceil(int(card["offer_seconds"]) / 60)),
        offer_start=datetime.fromisoformat(offer["start"]).astimezone(found.zone)
        if offer
        else None,
        claim_path=urlsplit(offer["claim_url"]).path if offer else None,
    )


@router.post("/{tenant}/{location}/{service}/waitlist/{token}/leave")
async def leave(
    tenant: Tenant, location: Key, service: Key, token: PlaceToken, request: Request, web: Web
) -> Response:
    """Leave the line (an offer still open passes on); the place page says so."""
    found = await shop(request, web, tenant, location, service)
    await _card(web, found, token)
    answer = await web.services.booking.leave_waitlist(token)
    if answer.status_code not in (200, 404):
        raise HTTPException(502, f"booking answered {answer.status_code}")
    return RedirectResponse(keep_embed(f"{found.base}/waitlist/{token}", embedded(request)), 303)


async def _card(web: Web, found: Shop, token: str) -> dict[str, Any]:
    card = await web.services.booking.waitlist_place(token)
    if card is None or (card["tenant_id"], card["service_id"]) != (
        found.tenant_id,
        found.service.service_id,
    ):
        raise HTTPException(404, "this waitlist link is not (or no longer) valid")
    return card


def _times(found: Shop, card: dict[str, Any]) -> tuple[datetime, datetime] | None:
    """The local times the customer waits for; None for the whole day."""
    earliest = datetime.fromisoformat(card["earliest"]).astimezone(found.zone)
    latest = datetime.fromisoformat(card["latest"]).astimezone(found.zone)
    whole_day = earliest.time().hour == 0 and earliest.time().minute == 0
    if whole_day and (latest.hour, latest.minute) == (23, 59):
        return None
    return earliest, latest


def _waitlist_form(found: Shop, wish: Wish, details: Details) -> dict[str, Any]:
    return {
        "name": details.name,
        "phone": details.phone or None,
        "email": details.email or None,
        "language": i18n.current(),
        "service_id": found.service.service_id,
        "location_id": found.location.location_id,
        **wish.request(),
    }


def _form_page(
    request: Request,
    found: Shop,
    wish: Wish,
    details: Details,
    *,
    status_code: int = 200,
    wait: int | None = None,
    notice: str | None = None,
) -> Response:
    if details.errors.get("phone") == "contact_missing":
        details.errors["phone"] = "contact_missing_offer"
    closed = found.service.due_now is not None
    return render(
        request,
        "customer/waitlist.html",
        409 if closed and status_code == 200 else status_code,
        shop=found,
        wish=wish,
        details=details,
        errors={**details.errors, **wish.errors},
        wait=wait,
        notice="closed" if closed else notice,
    )
