"""The booking link: ``/{tenant}`` (its locations) → ``/{tenant}/{location}`` (its
services) → ``/{tenant}/{location}/{service}`` (the calendar: the next free time at
the top, fourteen days colour-coded, the chosen day's free times soonest first)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from slotline.web.domain.calendar import days, first_bookable
from slotline.web.http.deps import Web
from slotline.web.http.shop import Key, Tenant, brand_page, now, offered, shop
from slotline.web.rendering import render

router = APIRouter(tags=["booking page"])


@router.get("/{tenant}")
async def tenant_home(tenant: Tenant, request: Request, web: Web) -> Response:
    brand_page(request, web, tenant)
    locations = await web.catalogs.locations(tenant)
    if not locations:
        raise HTTPException(404, "no booking page here")
    if len(locations) == 1:
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"/{tenant}/{locations[0].slug}{query}", 302)
    return render(request, "customer/locations.html", locations=locations)


@router.get("/{tenant}/{location}")
async def location_home(tenant: Tenant, location: Key, request: Request, web: Web) -> Response:
    brand_page(request, web, tenant)
    found = await web.catalogs.location(tenant, location)
    if found is None:
        raise HTTPException(404, "no such location")
    return render(request, "customer/services.html", location=found)


@router.get("/{tenant}/{location}/{service}")
async def calendar(
    tenant: Tenant,
    location: Key,
    service: Key,
    request: Request,
    web: Web,
    day: date | None = None,
    fragment: bool = False,
) -> Response:
    """The slot view; ``fragment`` renders only the calendar (live refresh)."""
    found = await shop(request, web, tenant, location, service)
    today = now().astimezone(found.zone).date()
    count = web.settings.web_slot_days
    calendar_days = days(await offered(web, found, now(), count), today, count)
    chosen = next((d for d in calendar_days if d.day == day), None) or first_bookable(calendar_days)
    soonest = first_bookable(calendar_days)
    return render(
        request,
        "customer/calendar_fragment.html" if fragment else "customer/calendar.html",
        shop=found,
        days=calendar_days,
        chosen=chosen,
        soonest=soonest.free_slots[0] if soonest else None,
    )
