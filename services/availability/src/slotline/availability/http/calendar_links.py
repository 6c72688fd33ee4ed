"""Calendar links over HTTP (manager): link a resource to a CalDAV, Google or Microsoft
365 calendar, read its sync health, unlink it. The password or OAuth refresh token is
accepted, sealed and never answered."""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, status
from pydantic import Field, HttpUrl, SecretStr

from slotline.availability.calendar_sync.links import CalendarLinks, LinkStatus
from slotline.availability.calendar_sync.oauth import OAuthGrant
from slotline.availability.domain.calendar_sync import Health
from slotline.availability.http.deps import Availability, Manager
from slotline.availability.http.hours_models import Body, View
from slotline.events.audit import audited_route


class CalDavLinkIn(Body):
    """A CalDAV calendar collection and the account that reads and writes it."""

    provider: Literal["caldav"] = "caldav"
    url: HttpUrl = Field(description="The calendar collection's URL (http or https).")
    username: str = Field(min_length=1, max_length=200)
    password: SecretStr = Field(min_length=1, max_length=500, description="Stored encrypted.")


class OAuthLinkIn(Body):
    """A calendar signed in to with OAuth: the owner's consent as a refresh token (the
    first sync renews an access token with it)."""

    refresh_token: SecretStr = Field(
        min_length=1,
        max_length=4000,
        description=(
            "The OAuth refresh token of the calendar owner's consent (offline access);"
            " access tokens are renewed with it. Stored encrypted."
        ),
    )

    def grant(self) -> OAuthGrant:
        return OAuthGrant(self.refresh_token.get_secret_value())


class GoogleLinkIn(OAuthLinkIn):
    """A Google calendar (Calendar API v3, scope calendar.events)."""

    provider: Literal["google"]
    url: HttpUrl = Field(
        description="https://www.googleapis.com/calendar/v3/calendars/<calendarId>"
    )


class MicrosoftLinkIn(OAuthLinkIn):
    """A Microsoft 365 calendar (Microsoft Graph v1.0, Calendars.ReadWrite)."""

    provider: Literal["microsoft"]
    url: HttpUrl = Field(
        description=(
            "https://graph.microsoft.com/v1.0/me/calendars/<calendarId> (or"
            " /users/<userId>/calendars/<calendarId>; /me/calendar for the primary one)"
        )
    )


CalendarLinkIn = CalDavLinkIn | GoogleLinkIn | MicrosoftLinkIn


class CalendarLinkView(View):
    resource_id: UUID
    provider: str
    url: str
    username: str
    health: Health = Field(description="pending (not synced yet), healthy or unhealthy.")
    failures: int = Field(description="Pull failures in a row (retried with backoff).")
    last_error: str | None
    last_synced_at: datetime | None
    next_sync_at: datetime
    failing_pushes: int = Field(description="Bookings not yet written to the calendar.")
    blocks: int = Field(description="Blocks the calendar's busy times make on the resource.")

    @classmethod
    def of(cls, link: LinkStatus) -> "CalendarLinkView":
        return cls(**link.__dict__)


def calendar_router(links_of: Callable[[Availability], CalendarLinks]) -> APIRouter:
    """The routes, over the link use cases of the service's application."""
    router = APIRouter(
        prefix="/v1",
        tags=["calendar sync"],
        dependencies=[Depends(audited_route("calendar_link", resource_id="calendar_link"))],
    )
    Links = Annotated[CalendarLinks, Depends(links_of)]

    @router.put("/resources/{resource_id}/calendar-link")
    def link_calendar(
        resource_id: UUID, body: CalendarLinkIn, manager: Manager, links: Links
    ) -> CalendarLinkView:
        if isinstance(body, CalDavLinkIn):
            username, credential = body.username, body.password.get_secret_value()
        else:
            username, credential = "", body.grant().sealable()
        status_ = links.link(
            manager.tenant_id, resource_id, str(body.url), username, credential, body.provider
        )
        return CalendarLinkView.of(status_)

    @router.get("/resources/{resource_id}/calendar-link")
    def calendar_link(resource_id: UUID, manager: Manager, links: Links) -> CalendarLinkView:
        return CalendarLinkView.of(links.status(manager.tenant_id, resource_id))

    @router.delete("/resources/{resource_id}/calendar-link", status_code=status.HTTP_204_NO_CONTENT)
    def unlink_calendar(resource_id: UUID, manager: Manager, links: Links) -> None:
        links.unlink(manager.tenant_id, resource_id)

    return router
