"""Per-resource calendar feeds: a subscribable .ics URL carrying a secret token.

Any resource a booking names has one — a staff member, a room, a piece of equipment:
bookings carry resource ids, not kinds, so the feed is keyed by the id alone. Staff get
the URL; owners and managers rotate it (every earlier URL stops working at once).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import anyio
from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import BaseModel, Field

from slotline.events.audit import audited_route
from slotline.events.rate_limits import limited, rate_limited_responses
from slotline.notifier.application import NotifierApplication
from slotline.notifier.calendar_files import FeedTokens, InvalidFeedToken, resource_feed
from slotline.notifier.http.deps import Manager, Notifier, Staff
from slotline.notifier.settings import NotifierSettings

NO_SUCH_FEED = "no such feed"
"""The one answer to every refused feed request: it never says whether the tenant or
resource exists, nor which check the token failed."""

_REFUSED: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such feed (the same answer whatever was wrong with the URL)."},
    **rate_limited_responses(),
}


def _feed_limit(settings: NotifierSettings) -> str:
    return settings.feed_rate_limit


feeds_limited = limited("calendar-feeds", _feed_limit, "feed requests from this address")
"""Feed requests per client address and tenant (``SLOTLINE_FEED_RATE_LIMIT``)."""


class CalendarFile(Response):
    media_type = "text/calendar"
    charset = "utf-8"


class FeedUrl(BaseModel):
    url: str = Field(description="The feed to subscribe to; its token is the only key to it.")
    expires_at: datetime = Field(description="The URL stops working then: fetch a new one.")


def feeds_router(tokens: FeedTokens, public_url: str) -> APIRouter:
    router = APIRouter(tags=["calendar feeds"])
    # a feed URL is a bearer secret for a person's calendar: who saw or rotated one is kept
    FEED_ACCESS = Depends(audited_route("calendar_feed", resource_id="calendar_feed"))
    base = public_url.rstrip("/")

    def feed_url(
        app: NotifierApplication, tenant_id: str, resource_id: str, version: int
    ) -> FeedUrl:
        now = app.clock()
        token = tokens.token(tenant_id, resource_id, version, now)
        url = f"{base}/feeds/{tenant_id}/resources/{resource_id}.ics?token={token}"
        return FeedUrl(url=url, expires_at=now + tokens.valid_for)

    async def current_url(app: NotifierApplication, tenant_id: str, resource_id: str) -> FeedUrl:
        version = await anyio.to_thread.run_sync(app.feed_version, tenant_id, resource_id)
        return feed_url(app, tenant_id, resource_id, version)

    @router.get(
        "/feeds/resources/{resource_id}",
        summary="A resource's feed URL",
        dependencies=[FEED_ACCESS],
    )
    @router.get(
        "/feeds/staff/{resource_id}",
        summary="A staff member's feed URL (the same as /feeds/resources/{resource_id})",
        dependencies=[FEED_ACCESS],
    )
    async def resource_url(resource_id: str, principal: Staff, app: Notifier) -> FeedUrl:
        """The secret URL of the calendar feed of a staff member, room or equipment."""
        return await current_url(app, principal.tenant_id, resource_id)

    @router.post(
        "/feeds/resources/{resource_id}/rotate",
        dependencies=[FEED_ACCESS],
        summary="A new feed URL for a resource; every earlier one stops working at once",
    )
    async def rotate(resource_id: str, principal: Manager, app: Notifier) -> FeedUrl:
        version = await anyio.to_thread.run_sync(app.rotate_feed, principal.tenant_id, resource_id)
        return feed_url(app, principal.tenant_id, resource_id, version)

    async def serve(
        app: NotifierApplication, tenant_id: str, resource_id: str, token: str
    ) -> Response:
        try:
            grant = tokens.read(token, tenant_id, resource_id, app.clock())
        except InvalidFeedToken:
            raise HTTPException(404, NO_SUCH_FEED) from None
        cards = await anyio.to_thread.run_sync(app.feed_bookings, grant)
        if cards is None:  # rotated since the token was made
            raise HTTPException(404, NO_SUCH_FEED)
        return CalendarFile(resource_feed(f"Slotline {resource_id}", cards, app.clock()))

    @router.get(
        "/feeds/{tenant_id}/resources/{resource_id}.ics",
        summary="A resource's calendar feed",
        response_class=CalendarFile,
        dependencies=[Depends(feeds_limited)],
        responses=_REFUSED,
    )
    @router.get(
        "/feeds/{tenant_id}/staff/{resource_id}.ics",
        summary="A staff calendar feed (the same as …/resources/{resource_id}.ics)",
        response_class=CalendarFile,
        dependencies=[Depends(feeds_limited)],
        responses=_REFUSED,
    )
    async def feed(
        tenant_id: str, resource_id: str, app: Notifier, token: str = Query(min_length=1)
    ) -> Response:
        return await serve(app, tenant_id, resource_id, token)

    return router
