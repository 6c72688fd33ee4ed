"""Per-staff calendar feeds: a subscribable .ics URL carrying a secret token."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, HTTPException, Query, Response

from slotline.notifier.calendar_files import feed_token, feed_token_valid, staff_feed
from slotline.notifier.http.deps import Notifier, Staff


class CalendarFile(Response):
    media_type = "text/calendar"
    charset = "utf-8"


def feeds_router(secret: str, public_url: str) -> APIRouter:
    router = APIRouter(tags=["calendar feeds"])

    @router.get("/feeds/staff/{resource_id}", summary="The feed URL of a staff member")
    async def feed_url(resource_id: str, principal: Staff) -> dict[str, str]:
        token = feed_token(secret, principal.tenant_id, resource_id)
        url = f"{public_url.rstrip('/')}/feeds/{principal.tenant_id}/staff/{resource_id}.ics"
        return {"url": f"{url}?token={token}"}

    @router.get(
        "/feeds/{tenant_id}/staff/{resource_id}.ics",
        summary="A staff calendar feed",
        response_class=CalendarFile,
    )
    async def feed(
        tenant_id: str, resource_id: str, app: Notifier, token: str = Query(min_length=1)
    ) -> Response:
        if not feed_token_valid(secret, tenant_id, resource_id, token):
            raise HTTPException(404, "no such feed")
        cards = await anyio.to_thread.run_sync(app.staff_bookings, tenant_id, resource_id)
        body = staff_feed(f"Slotline {resource_id}", cards, app.clock())
        return CalendarFile(body)

    return router
