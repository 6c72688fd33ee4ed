"""The customer's manage link: see the booking, follow its outcome live, cancel or
move it, download it as a calendar file — no account, the signed link is the key."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Annotated
from uuid import UUID

import anyio
from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse, Response
from sse_starlette.sse import EventSourceResponse

from slotline.booking.application import BookingApplication
from slotline.booking.domain.booking import Actor, Booking
from slotline.booking.http.bookings import OUTCOMES, BookingMoves
from slotline.booking.http.calendar_file import ics
from slotline.booking.http.card import BookingCard, card
from slotline.booking.http.deps import Bookings, Links, Settings, Watch
from slotline.booking.http.forms import CancelForm, RescheduleForm
from slotline.booking.http.throttle import throttle_manage
from slotline.booking.http.waiting import wait_for
from slotline.booking.links import ManageLinks
from slotline.events.http_contract import EventStream
from slotline.events.rate_limits import rate_limited_responses

router = APIRouter(
    prefix="/v1/manage/{token}",
    tags=["manage"],
    dependencies=[Depends(throttle_manage)],
    responses=rate_limited_responses(),
)

Token = Annotated[str, Path(min_length=20, max_length=2048)]


def granted(token: str, app: BookingApplication, links: ManageLinks) -> tuple[str, UUID]:
    """The tenant and booking a link opens: signed, unexpired and not revoked since
    (else ``InvalidManageLink``: a 404 that says no more)."""
    grant = links.read(token)
    booking = app.booking(grant.tenant_id, grant.booking_id)
    grant.still_valid_for(booking.link_version)
    return grant.tenant_id, grant.booking_id


@router.get("", response_model=BookingCard)
def status_card(token: Token, app: Bookings, links: Links) -> BookingCard:
    tenant_id, booking_id = granted(token, app, links)
    return card(app.booking(tenant_id, booking_id), links)


@router.get("/events", response_class=EventStream)
async def outcome_stream(
    token: Token, app: Bookings, links: Links, watch: Watch
) -> EventSourceResponse:
    """Server-sent ``booking`` events: the card now, then after every change, until the
    booking settles (for clients that got a 202)."""
    tenant_id, booking_id = await anyio.to_thread.run_sync(granted, token, app, links)

    async def events() -> AsyncIterator[dict[str, str]]:
        last_version = -1
        while True:
            booking: Booking = await wait_for(
                app, watch, tenant_id, booking_id, _changed_since(last_version), timeout=15.0
            )
            if booking.version != last_version:
                last_version = booking.version
                body = card(booking, links).model_dump(mode="json")
                yield {"event": "booking", "data": json.dumps(body)}
                if booking.settled and booking.pending_change is None:
                    return
            else:
                yield {"event": "ping", "data": "{}"}

    return EventSourceResponse(events())


@router.post("/cancel", response_model=BookingCard)
def cancel(token: Token, form: CancelForm, app: Bookings, links: Links) -> BookingCard:
    """Cancel: free inside the window, the late-cancellation fee after it."""
    tenant_id, booking_id = granted(token, app, links)
    return card(app.cancel(tenant_id, booking_id, Actor.CUSTOMER, form.reason), links)


@router.post(
    "/reschedule",
    response_model=BookingCard,
    responses=OUTCOMES,
)
async def move(token: Token, form: RescheduleForm, moves: BookingMoves) -> JSONResponse:
    tenant_id, booking_id = await anyio.to_thread.run_sync(granted, token, moves.app, moves.links)
    return await moves.move(tenant_id, booking_id, Actor.CUSTOMER, form)


@router.post("/claim", response_model=BookingCard)
async def claim(
    token: Token, app: Bookings, links: Links, watch: Watch, settings: Settings
) -> BookingCard:
    """Claim a waitlist offer held for you (409 once it ran out or was claimed): the
    booking is confirmed as any other; the card says so (or ``held`` while under way)."""
    tenant_id, booking_id = await anyio.to_thread.run_sync(granted, token, app, links)
    await anyio.to_thread.run_sync(app.waitlist.claim, tenant_id, booking_id)
    booking = await wait_for(
        app, watch, tenant_id, booking_id, lambda b: b.settled, settings.answer_wait_seconds
    )
    return card(booking, links)


@router.get("/booking.ics")
def calendar_file(token: Token, app: Bookings, links: Links) -> Response:
    tenant_id, booking_id = granted(token, app, links)
    booking = app.booking(tenant_id, booking_id)
    return Response(
        ics(booking, links),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{booking.reference}.ics"'},
    )


def _changed_since(version: int) -> Callable[[Booking], bool]:
    return lambda booking: booking.version != version
