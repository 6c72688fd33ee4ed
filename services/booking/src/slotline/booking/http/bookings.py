"""Booking requests over HTTP — the public form endpoint and the staff one — and the
staff's operations on bookings. ``POST`` answers with the outcome when the saga
settles within ``answer_wait_seconds`` (201 confirmed, 409 refused), else 202 with
links to follow it."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Annotated, Any, NoReturn
from uuid import UUID, uuid4

import anyio
from fastapi import APIRouter, Depends, Header, Path, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from slotline.booking.application import BookingApplication
from slotline.booking.domain.booking import Actor, Booking, BookingStatus
from slotline.booking.domain.contact import InvalidContact, normalise_phone
from slotline.booking.domain.request import front_desk_claim
from slotline.booking.domain.status import MoveAnswer
from slotline.booking.http.audit_points import (
    BOOKING_BY_REFERENCE,
    BOOKING_CHANGE,
    BOOKING_READ,
    DAY_SHEET,
)
from slotline.booking.http.card import BookingCard, card
from slotline.booking.http.deps import (
    Bookings,
    FrontDesk,
    Links,
    Requester,
    Settings,
    Staff,
    Watch,
)
from slotline.booking.http.forms import (
    BookingForm,
    CancelForm,
    PublicBookingForm,
    RescheduleForm,
)
from slotline.booking.http.throttle import throttle_public
from slotline.booking.http.waiting import wait_for, wait_watched
from slotline.booking.links import ManageLinks
from slotline.booking.live import board
from slotline.booking.live.watch import BookingWatch
from slotline.booking.settings import BookingSettings
from slotline.booking.zones import country_of_zone
from slotline.events.auth import Role
from slotline.events.clock import Instant
from slotline.events.contract.booking_requests import BookingRequested
from slotline.events.contract.common import Contact
from slotline.events.group_commit import GroupCommit
from slotline.events.rate_limits import rate_limited_responses
from slotline.events.runtime import Writer
from slotline.events.unit_of_work import UnitOfWork

router = APIRouter(tags=["bookings"])

OUTCOMES: dict[int | str, dict[str, Any]] = {
    202: {"model": BookingCard, "description": "Still under way: follow the Location."},
    409: {
        "description": "Refused: the card says why and offers alternatives; or the request"
        " conflicts with the booking's state, or reuses an Idempotency-Key (a Problem).",
        "content": {
            "application/json": {
                "schema": {
                    "anyOf": [
                        {"$ref": "#/components/schemas/BookingCard"},
                        {"$ref": "#/components/schemas/Problem"},
                    ]
                }
            }
        },
    },
}
"""The answers of a request that waits for its outcome, beside 200/201."""

TenantPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200)
]


@dataclass(frozen=True, slots=True)
class Intake:
    """Takes a booking request, from the booking page or the staff: the request is
    stored in one group commit, then answered with its outcome or as under way."""

    app: BookingApplication
    writer: GroupCommit
    watch: BookingWatch
    settings: BookingSettings
    links: ManageLinks

    async def take(
        self, tenant_id: str, form: BookingForm, idempotency_key: str | None, vouched: bool = False
    ) -> JSONResponse:
        app = self.app
        if form.phone and not form.phone.startswith("+"):
            terms = await anyio.to_thread.run_sync(app.catalog.service, tenant_id, form.service_id)
            region = country_of_zone(terms.time_zone) if terms else None
            region = region or self.settings.default_phone_region
            form = form.model_copy(update={"phone": _national(form.phone, region)})
        request = _as_message(tenant_id, form, idempotency_key)

        def act(work: UnitOfWork) -> _Taken:
            missing = app.missing_payment(tenant_id, form.service_id, form.payment_token)
            if missing is not None:  # answered, with nothing written: the group goes on
                return _Taken(None, None, missing)
            booking = app.request_booking(request, work=work, vouched=vouched)
            # once committed, the instance is the cache's, for the next work to change:
            # a settled one (refused at once, or a repeat) is copied for the answer
            return _Taken(booking.id, copy.deepcopy(booking) if booking.settled else None)

        watched_id = Booking.create_id(tenant_id, request.request_id)
        # watched before it is written: its first change may come before the commit returns
        with self.watch.watching(watched_id) as watched:
            taken = await self.writer.run(act)
            if taken.missing_payment is not None:
                _invalid("payment_token", taken.missing_payment)
            assert taken.booking_id is not None
            if taken.settled is not None:
                booking = taken.settled
            elif taken.booking_id == watched_id:
                booking = await wait_watched(
                    app, watched, tenant_id, watched_id, _settled, self.wait, undone=True
                )
            else:  # an Idempotency-Key's earlier booking: not the one watched
                booking = await wait_for(
                    app, self.watch, tenant_id, taken.booking_id, _settled, self.wait
                )
        return _answer(booking, self.links)

    @property
    def wait(self) -> float:
        return self.settings.answer_wait_seconds


@dataclass(frozen=True, slots=True)
class _Taken:
    """What the group commit answers a request: its booking, a copy of it if already
    settled, or why a payment is missing (then nothing was written)."""

    booking_id: UUID | None
    settled: Booking | None
    missing_payment: str | None = None


def _settled(booking: Booking) -> bool:
    return booking.settled


async def request_intake(
    app: Bookings, writer: Writer, watch: Watch, settings: Settings, links: Links
) -> Intake:
    return Intake(app, writer, watch, settings, links)


@router.post(
    "/v1/public/{tenant_id}/bookings",
    response_model=BookingCard,
    status_code=201,
    dependencies=[Depends(throttle_public)],
    responses={**OUTCOMES, **rate_limited_responses()},
)
async def request_publicly(
    tenant_id: TenantPath,
    form: PublicBookingForm,
    intake: Annotated[Intake, Depends(request_intake)],
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """A customer books from the booking page: no account; repeats with the same
    ``Idempotency-Key`` (or ``request_id``) return the first outcome; too many requests
    from one address are answered 429 with Retry-After."""
    return await intake.take(tenant_id, form.as_booking_form(), idempotency_key)


@router.post(
    "/v1/bookings",
    response_model=BookingCard,
    status_code=201,
    responses=OUTCOMES,
)
async def request_as_staff(
    form: BookingForm,
    principal: Requester,
    intake: Annotated[Intake, Depends(request_intake)],
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """The front desk (or a channel adapter with a token) books for a customer; a
    channel may not say what only the front desk knows (422, see ``BookingForm``)."""
    vouched = principal.has_any(Role.FRONT_DESK)
    if not vouched:  # a channel passes on what anyone typed
        claim = front_desk_claim(form.channel.value, form.source_call_id, form.consents.marketing)
        if claim is not None:
            _invalid(claim.field, claim.detail)
    return await intake.take(principal.tenant_id, form, idempotency_key, vouched=vouched)


def _national(phone: str, region: str | None) -> str:
    """A number without +country, read in the location's country (or the setting's)."""
    if region is None:
        _invalid("phone", f"{phone!r}: write the number with its country code, e.g. +30 …")
    try:
        return normalise_phone(phone, region)
    except InvalidContact as error:
        _invalid("phone", str(error))


def _as_message(tenant_id: str, form: BookingForm, idempotency_key: str | None) -> BookingRequested:
    request_id = form.request_id or str(uuid4())
    return BookingRequested(
        tenant_id=tenant_id,
        aggregate_id=request_id,
        request_id=request_id,
        channel=form.channel,
        contact=Contact(name=form.name, phone=form.phone, email=form.email, language=form.language),
        service_id=form.service_id,
        location_id=form.location_id,
        slot_start=form.start,
        preferred_staff_id=form.staff_id,
        preferred_resource_id=form.resource_id,
        notes=form.notes,
        consents=form.consents.to_contract(),
        source_call_id=form.source_call_id,
        idempotency_key=idempotency_key,
        payment_token=form.payment_token,
    )


def _answer(booking: Booking, links: ManageLinks) -> JSONResponse:
    body = card(booking, links)
    if booking.status is BookingStatus.CONFIRMED:
        code = 201
    elif booking.status in (BookingStatus.REJECTED, BookingStatus.EXPIRED):
        code = 409
    else:
        code = 202
    headers = {"Location": body.manage_url} if code == 202 else {}
    return JSONResponse(body.model_dump(mode="json"), status_code=code, headers=headers)


def _invalid(field: str, message: str) -> NoReturn:
    raise RequestValidationError([{"loc": ("body", field), "msg": message, "type": "value_error"}])


# --- staff operations --------------------------------------------------------------------


@router.get("/v1/bookings", response_model=list[dict[str, Any]], dependencies=[DAY_SHEET])
def list_bookings(
    principal: Staff,
    app: Bookings,
    start: Instant | None = None,
    end: Instant | None = None,
    status: Annotated[str | None, Query(pattern=r"^[a-z_]+$")] = None,
    customer_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    """The day sheet: bookings by start time, filtered by time range, status, customer."""
    wanted = board.DaySheetFilter(start, end, status, customer_id, limit)
    with app.process_recorder.datastore.transaction(commit=False) as cursor:  # type: ignore[attr-defined]
        rows = board.bookings(cursor, app.schema, principal.tenant_id, wanted, app.read_seal)
    return [{k: (str(v) if isinstance(v, UUID) else v) for k, v in row.items()} for row in rows]


@router.get(
    "/v1/bookings/by-reference/{reference}",
    response_model=BookingCard,
    dependencies=[BOOKING_BY_REFERENCE],
)
def by_reference(
    reference: Annotated[str, Path(max_length=20)], principal: Staff, app: Bookings, links: Links
) -> BookingCard:
    return card(app.booking_by_reference(principal.tenant_id, reference), links)


@router.get("/v1/bookings/{booking_id}", response_model=BookingCard, dependencies=[BOOKING_READ])
def get_booking(booking_id: UUID, principal: Staff, app: Bookings, links: Links) -> BookingCard:
    return card(app.booking(principal.tenant_id, booking_id), links)


@router.post(
    "/v1/bookings/{booking_id}/cancel", response_model=BookingCard, dependencies=[BOOKING_CHANGE]
)
def cancel_as_staff(
    booking_id: UUID, form: CancelForm, principal: FrontDesk, app: Bookings, links: Links
) -> BookingCard:
    """Cancel on the customer's behalf; the policy's fee and refund still apply."""
    return card(app.cancel(principal.tenant_id, booking_id, Actor.STAFF, form.reason), links)


@dataclass(frozen=True, slots=True)
class Moves:
    """Moves a booking, for the front desk or the customer's manage link: asks
    availability to move the allocation and waits (bounded) for its answer — 200 moved,
    409 refused with alternatives, 202 still under way."""

    app: BookingApplication
    watch: BookingWatch
    settings: BookingSettings
    links: ManageLinks

    async def move(
        self, tenant_id: str, booking_id: UUID, by: Actor, form: RescheduleForm
    ) -> JSONResponse:
        app = self.app
        before = await anyio.to_thread.run_sync(app.booking, tenant_id, booking_id)
        changes_before = before.changes
        await anyio.to_thread.run_sync(
            lambda: app.reschedule(tenant_id, booking_id, by, form.start, form.staff_id)
        )
        booking = await wait_for(
            app,
            self.watch,
            tenant_id,
            booking_id,
            lambda b: b.pending_change is None,
            self.settings.answer_wait_seconds,
        )
        reply = booking.move_reply(changes_before)
        body = card(booking, self.links).model_dump(mode="json") | reply.card_changes
        return JSONResponse(body, status_code=_MOVE_STATUS[reply.answer])


async def booking_moves(app: Bookings, watch: Watch, settings: Settings, links: Links) -> Moves:
    return Moves(app, watch, settings, links)


BookingMoves = Annotated[Moves, Depends(booking_moves)]


@router.post(
    "/v1/bookings/{booking_id}/reschedule",
    response_model=BookingCard,
    responses=OUTCOMES,
    dependencies=[BOOKING_CHANGE],
)
async def reschedule_as_staff(
    booking_id: UUID, form: RescheduleForm, principal: FrontDesk, moves: BookingMoves
) -> JSONResponse:
    return await moves.move(principal.tenant_id, booking_id, Actor.STAFF, form)


_MOVE_STATUS = {MoveAnswer.MOVED: 200, MoveAnswer.UNDER_WAY: 202, MoveAnswer.REFUSED: 409}


@router.post(
    "/v1/bookings/{booking_id}/manage-link/revoke",
    response_model=BookingCard,
    dependencies=[BOOKING_CHANGE],
)
def revoke_manage_links(
    booking_id: UUID, principal: FrontDesk, app: Bookings, links: Links
) -> BookingCard:
    """Every manage link sent for this booking stops working (it reached someone else);
    the card answered carries the new one, for the desk to pass on."""
    return card(app.revoke_links(principal.tenant_id, booking_id), links)


@router.post(
    "/v1/bookings/{booking_id}/arrived", response_model=BookingCard, dependencies=[BOOKING_CHANGE]
)
def arrived(booking_id: UUID, principal: Staff, app: Bookings, links: Links) -> BookingCard:
    """The customer is here (the front desk's check-in); repeating it changes nothing."""
    return card(app.mark_arrived(principal.tenant_id, booking_id), links)


@router.post(
    "/v1/bookings/{booking_id}/complete", response_model=BookingCard, dependencies=[BOOKING_CHANGE]
)
def complete(booking_id: UUID, principal: Staff, app: Bookings, links: Links) -> BookingCard:
    """The customer came: the visit is done."""
    return card(app.complete(principal.tenant_id, booking_id), links)


@router.post(
    "/v1/bookings/{booking_id}/no-show", response_model=BookingCard, dependencies=[BOOKING_CHANGE]
)
def no_show(booking_id: UUID, principal: Staff, app: Bookings, links: Links) -> BookingCard:
    """The customer did not come: the no-show fee applies."""
    return card(app.mark_no_show(principal.tenant_id, booking_id), links)
