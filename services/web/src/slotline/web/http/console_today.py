"""Today: the day sheet of one location — a column per resource, bookings drawn where
they sit, free times to click for a caller — kept live by the board and slot feeds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from slotline.web.catalog import Location
from slotline.web.domain.daysheet import day_sheet
from slotline.web.http.console_session import StaffSession
from slotline.web.http.deps import Context, Web
from slotline.web.rendering import render

router = APIRouter(prefix="/console", tags=["console"])


@router.get("")
async def console_home() -> Response:
    return RedirectResponse("/console/today", 302)


async def staff_location(web: Context, tenant_id: str, key: str | None) -> Location | None:
    """The location asked for, else the tenant's first."""
    locations = await web.catalogs.locations(tenant_id)
    if key:
        found = await web.catalogs.location(tenant_id, key)
        if found:
            return found
    return locations[0] if locations else None


@router.get("/today")
async def today(
    request: Request,
    session: StaffSession,
    web: Web,
    day: date | None = None,
    location: str | None = None,
    fragment: bool = False,
) -> Response:
    tenant = session.principal.tenant_id
    place = await staff_location(web, tenant, location)
    if place is None:
        return render(request, "console/no_location.html")
    zone = ZoneInfo(place.time_zone)
    now = datetime.now(UTC)
    day = day or now.astimezone(zone).date()
    start = datetime.combine(day, datetime.min.time(), zone)
    end = start + timedelta(days=1)
    resources = await web.services.availability.resources(session.token, place.location_id)
    bookings = [
        b
        for b in await web.services.booking.day_sheet(session.token, start, end)
        if b["location_id"] == place.location_id
    ]
    free = (
        await web.services.availability.slots(
            session.token, location_id=place.location_id, start=max(now, start), until=end
        )
        if end > now
        else []
    )
    sheet = day_sheet(day, zone, resources, bookings, free)
    return render(
        request,
        "console/today_fragment.html" if fragment else "console/today.html",
        sheet=sheet,
        place=place,
        locations=await web.catalogs.locations(tenant),
        services={s.service_id: s for s in place.services},
        previous=day - timedelta(days=1),
        next=day + timedelta(days=1),
        is_today=day == now.astimezone(zone).date(),
        done=request.query_params.get("done"),
        reference=request.query_params.get("reference"),
        carry=_caller(request),
    )


def _caller(request: Request) -> str:
    """``&phone=…&call=…`` when booking for a caller from the callbacks queue."""
    asked = request.query_params
    kept = {k: asked[k][:64] for k in ("phone", "call") if asked.get(k)}
    return "&" + urlencode(kept) if kept else ""
