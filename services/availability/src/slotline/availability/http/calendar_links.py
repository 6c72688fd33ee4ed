"""Calendar links over HTTP (manager): link a resource to a CalDAV calendar, read its
sync health, unlink it. The password is accepted, sealed and never answered."""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, status
from pydantic import Field, HttpUrl, SecretStr

from slotline.availability.calendar_sync.links import CalendarLinks, LinkStatus
from slotline.availability.domain.calendar_sync import Health
from slotline.availability.http.deps import Availability, Manager
from slotline.availability.http.hours_models import Body, View


class CalDavLinkIn(Body):
    """A CalDAV calendar collection and the account that reads and writes it."""

    provider: Literal["caldav"] = "caldav"
    url: HttpUrl = Field(description="The calendar collection's URL (http or https).")
    username: str = Field(min_length=1, max_length=200)
    password: SecretStr = Field(min_length=1, max_length=500, description="Stored encrypted.")


class GoogleLinkIn(Body):
    """A Google calendar: its API resource and an OAuth access token (calendar.events)."""

    provider: Literal["google"]
    url: HttpUrl = Field(
        description="https://www.googleapis.com/calendar/v3/calendars/<calendarId>"
    )
    password: SecretStr = Field(
        min_length=1, max_length=4000, description="The access token; stored encrypted."
    )


CalendarLinkIn = CalDavLinkIn | GoogleLinkIn


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
    router = APIRouter(prefix="/v1", tags=["calendar sync"])
    Links = Annotated[CalendarLinks, Depends(links_of)]

    @router.put("/resources/{resource_id}/calendar-link")
    def link_calendar(
        resource_id: UUID, body: CalendarLinkIn, manager: Manager, links: Links
    ) -> CalendarLinkView:
        username = body.username if isinstance(body, CalDavLinkIn) else ""
        status_ = links.link(
            manager.tenant_id,
            resource_id,
            str(body.url),
            username,
            body.password.get_secret_value(),
            body.provider,
        )
        return CalendarLinkView.of(status_)

    @router.get("/resources/{resource_id}/calendar-link")
    def calendar_link(resource_id: UUID, manager: Manager, links: Links) -> CalendarLinkView:
        return CalendarLinkView.of(links.status(manager.tenant_id, resource_id))

    @router.delete("/resources/{resource_id}/calendar-link", status_code=status.HTTP_204_NO_CONTENT)
    def unlink_calendar(resource_id: UUID, manager: Manager, links: Links) -> None:
        links.unlink(manager.tenant_id, resource_id)

    return router
