"""The waitlist over HTTP: a customer joins the line for a service on a day from the
booking page (no account; the answer carries a signed link to their place), sees where
they stand and leaves by that link; the front desk reads a day's line. An offer is
claimed on the offer booking's manage link (``POST /v1/manage/{token}/claim``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, cast
from uuid import UUID

import anyio
from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from slotline.booking.application import BookingApplication
from slotline.booking.application.waitlist import JoinRequest, WaitlistRefused
from slotline.booking.domain.waitlist import WaitlistLine
from slotline.booking.http.audit_points import WAITLIST_READ
from slotline.booking.http.deps import Bookings, Settings, Staff
from slotline.booking.http.forms import ContactForm, ObjectId, PublicConsentsForm
from slotline.booking.http.throttle import throttle_manage, throttle_public
from slotline.booking.links import ManageLinks, WaitlistLinks
from slotline.booking.settings import BookingSettings
from slotline.events.rate_limits import rate_limited_responses

router = APIRouter(tags=["waitlist"])

TenantPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
Token = Annotated[str, Path(min_length=20, max_length=2048)]
LocalTime = Annotated[
    str,
    Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="Local time, HH:MM."),
]
HORIZON = timedelta(days=366)


class WaitlistForm(ContactForm):
    """Join the waitlist for a service on a local day, optionally within a time range or
    with one staff member."""

    service_id: ObjectId = Field(description="The service waited for.")
    location_id: ObjectId = Field(description="Where.")
    day: date = Field(description="The local day, in the location's time zone.")
    earliest: LocalTime | None = Field(default=None, description="No start before (HH:MM).")
    latest: LocalTime | None = Field(default=None, description="No start after (HH:MM).")
    staff_id: ObjectId | None = Field(default=None, description="Only with this staff member.")
    consents: PublicConsentsForm = Field(
        default_factory=PublicConsentsForm, description="What may be sent to them."
    )


class WaitlistOffer(BaseModel):
    booking_id: str
    start: datetime
    claim_url: str


class WaitlistCard(BaseModel):
    """A customer's place in a line: ``waiting`` (``position``: 1 = next), ``offered``
    (claim the ``offer`` before it runs out), ``claimed``, ``passed`` or ``left``."""

    entry_id: str
    tenant_id: str
    service_id: str
    location_id: str
    day: date
    status: str
    position: int | None
    earliest: datetime
    latest: datetime
    offer: WaitlistOffer | None
    offer_seconds: int = Field(
        description="How long a freed slot is held for the customer it is offered to"
        " (the claim link's window); unclaimed by then, it passes to the next in line."
    )
    link: str


class LineEntry(BaseModel):
    entry_id: str
    customer_id: str
    status: str
    position: int | None
    earliest: datetime
    latest: datetime
    staff_id: str | None


async def _links(request: Request) -> WaitlistLinks:
    config = cast(BookingSettings, request.app.state.runtime.spec.settings)
    return WaitlistLinks(config.manage_link_secret.get_secret_value(), config.public_base_url)


async def _manage_links(request: Request) -> ManageLinks:
    config = cast(BookingSettings, request.app.state.runtime.spec.settings)
    return ManageLinks(config.manage_link_secret.get_secret_value(), config.public_base_url)


Links = Annotated[WaitlistLinks, Depends(_links)]
ManageLinksDep = Annotated[ManageLinks, Depends(_manage_links)]


def _card(
    app: BookingApplication,
    line: WaitlistLine,
    entry_id: str,
    links: WaitlistLinks,
    manage: ManageLinks,
) -> WaitlistCard:
    entry = line.entry(entry_id)
    latest = datetime.fromisoformat(entry["latest"])
    offer = line.offer_of(entry_id)
    shown = None
    if offer is not None and offer.sent:
        booking = app.booking(line.tenant_id, UUID(offer.booking_id))
        shown = WaitlistOffer(
            booking_id=offer.booking_id,
            start=offer.start,
            claim_url=manage.url(
                line.tenant_id, booking.id, booking.slot_end, booking.link_version
            ),
        )
    return WaitlistCard(
        entry_id=entry_id,
        tenant_id=line.tenant_id,
        service_id=line.service_id,
        location_id=line.location_id,
        day=line.day,
        status=entry["status"],
        position=line.position(entry_id),
        earliest=datetime.fromisoformat(entry["earliest"]),
        latest=latest,
        offer=shown,
        offer_seconds=int(app.waitlist.offer_window.total_seconds()),
        link=links.url(line.tenant_id, line.id, entry_id, latest),
    )


@router.post(
    "/v1/public/{tenant_id}/waitlist",
    response_model=WaitlistCard,
    status_code=201,
    dependencies=[Depends(throttle_public)],
    responses={
        409: {
            "description": "The line cannot be joined: the service is not offered there,"
            " the day has gone by or is more than a year ahead, or it asks for payment"
            " up front.",
        },
        **rate_limited_responses(),
    },
)
async def join(
    tenant_id: TenantPath,
    form: WaitlistForm,
    app: Bookings,
    settings: Settings,
    links: Links,
    manage: ManageLinksDep,
) -> WaitlistCard:
    """Join the line when no slot suits: the first slot that frees up and suits is held
    for the first in line, who is sent a link to claim it. Joining again while in the
    line answers the same place."""
    if form.day > (datetime.now(UTC) + HORIZON).date():
        raise WaitlistRefused(f"day {form.day} is more than a year ahead")
    asked = JoinRequest(
        tenant_id=tenant_id,
        service_id=form.service_id,
        location_id=form.location_id,
        day=form.day,
        earliest=time.fromisoformat(form.earliest) if form.earliest else None,
        latest=time.fromisoformat(form.latest) if form.latest else None,
        staff_id=form.staff_id,
        name=form.name,
        phone=form.phone,
        email=form.email,
        language=form.language,
        consents={"transactional": form.consents.transactional, "marketing": False},
    )

    def joined() -> WaitlistCard:
        answer = app.waitlist.join(asked, settings.default_phone_region)
        line = app.waitlist.line(tenant_id, answer.line_id)
        return _card(app, line, answer.entry_id, links, manage)

    return await anyio.to_thread.run_sync(joined)


@router.get(
    "/v1/waitlist/{token}",
    response_model=WaitlistCard,
    dependencies=[Depends(throttle_manage)],
    responses=rate_limited_responses(),
)
def place(token: Token, app: Bookings, links: Links, manage: ManageLinksDep) -> WaitlistCard:
    """Where the customer stands, and the offer to claim if one is open."""
    grant = links.read(token)
    line = app.waitlist.line(grant.tenant_id, grant.line_id)
    return _card(app, line, grant.entry_id, links, manage)


@router.post(
    "/v1/waitlist/{token}/leave",
    response_model=WaitlistCard,
    dependencies=[Depends(throttle_manage)],
    responses=rate_limited_responses(),
)
def leave(token: Token, app: Bookings, links: Links, manage: ManageLinksDep) -> WaitlistCard:
    """Leave the line; an offer still open is given back and passes to the next."""
    grant = links.read(token)
    line = app.waitlist.leave(grant.tenant_id, grant.line_id, grant.entry_id)
    return _card(app, line, grant.entry_id, links, manage)


@router.get("/v1/waitlist", response_model=list[LineEntry], dependencies=[WAITLIST_READ])
def day_line(
    principal: Staff,
    app: Bookings,
    service_id: Annotated[str, Query(min_length=1, max_length=128)],
    location_id: Annotated[str, Query(min_length=1, max_length=128)],
    day: date,
) -> list[LineEntry]:
    """A service's line on a day, in order (staff): ids only, see the customer record."""
    line_id = WaitlistLine.create_id(principal.tenant_id, service_id, location_id, day)
    found: Any = app.get_many([line_id]).get(line_id)
    if not isinstance(found, WaitlistLine):
        return []
    return [
        LineEntry(
            entry_id=entry_id,
            customer_id=entry["customer_id"],
            status=entry["status"],
            position=found.position(entry_id),
            earliest=datetime.fromisoformat(entry["earliest"]),
            latest=datetime.fromisoformat(entry["latest"]),
            staff_id=entry["staff_id"],
        )
        for entry_id, entry in found.entries.items()
    ]
