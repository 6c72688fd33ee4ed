"""Kafka side of the booking service: what it consumes, through the idempotent inbox
— booking requests, availability's hold outcomes and catalogue, payments'
authorisations, and (for the customer timeline) calls and notifications. What it
publishes is in :mod:`slotline.booking.messaging.publishing` (``publisher``, re-exported here as
every service's ``messaging`` module offers it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from slotline.booking.application import (
    BookingApplication,
    IdempotencyKeyReused,
    UnknownBooking,
)
from slotline.booking.application.intake import refusal_from
from slotline.booking.domain.booking import Actor, Booking, InvalidTransition
from slotline.booking.domain.contact import InvalidContact
from slotline.booking.domain.money import Money
from slotline.booking.domain.request_answer import Answer, RequestAnswer
from slotline.booking.domain.waitlist import WaitlistLine
from slotline.booking.domain.waitlist_values import FreedBy
from slotline.booking.live.timeline import Timeline
from slotline.booking.messaging.change_proof import ChangeProof, NotAuthorized
from slotline.booking.messaging.day_views import UnreadDay
from slotline.booking.messaging.publishing import publisher
from slotline.events import request_sealing
from slotline.events.contract import availability as holds
from slotline.events.contract import availability_catalog as catalog
from slotline.events.contract import booking as public
from slotline.events.contract import booking_requests as requests
from slotline.events.contract import payments
from slotline.events.contract.common import HoldRejection
from slotline.events.contract.registry import ContractViolation
from slotline.events.envelope import Message
from slotline.events.inbox import Identity, Reads, Rejected
from slotline.events.runtime import Subscription
from slotline.events.topics import (
    AVAILABILITY_EVENTS,
    BOOKING_REQUESTS,
    CALLS_EVENTS,
    NOTIFICATIONS_EVENTS,
    PAYMENTS_EVENTS,
)
from slotline.events.unit_of_work import UnitOfWork

__all__ = ["check_sealed", "publisher", "subscriptions"]


def subscriptions(
    application: BookingApplication, proof: ChangeProof, *, clear_requests: bool = True
) -> Sequence[Subscription]:
    """Each topic's messages are applied in batches, one unit of work per batch; a change
    request must carry ``proof`` that it may act on its booking; without
    ``clear_requests`` a new request's contact and notes must come sealed for booking."""
    timeline = Timeline(application)
    answers = _availability(application)
    money = _payments(application)
    asked = _requests(application, proof, clear_requests)
    return (
        Subscription(
            BOOKING_REQUESTS,
            handlers=dict.fromkeys(BOOKING_REQUEST_TYPES, asked),
            identity=Identity.MESSAGE,
            refused=answer_refusal,
            reads=_request_reads(application),
        ),
        Subscription(
            AVAILABILITY_EVENTS,
            handlers=dict.fromkeys(AVAILABILITY_ANSWERS, answers),
            reads=_answered_booking,
        ),
        Subscription(
            PAYMENTS_EVENTS,
            handlers={
                payments.PaymentAuthorized: money,
                payments.PaymentAuthorizationFailed: money,
                Message: timeline.handle,
            },
            reads=_paid_booking,
        ),
        Subscription(CALLS_EVENTS, handlers={Message: timeline.handle}),
        Subscription(NOTIFICATIONS_EVENTS, handlers={Message: timeline.handle}),
    )


BOOKING_REQUEST_TYPES: tuple[type[Message], ...] = (
    requests.BookingRequested,
    requests.BookingCancellationRequested,
    requests.BookingRescheduleRequested,
)

HOLD_ANSWERS: tuple[type[Message], ...] = (
    holds.HoldPlaced,
    holds.HoldRejected,
    holds.HoldConfirmed,
    holds.HoldExpired,
    holds.HoldRescheduled,
    holds.HoldRescheduleRefused,
)
"""Availability's answers about a hold, whose id is its booking's."""

AVAILABILITY_ANSWERS: tuple[type[Message], ...] = (
    catalog.LocationRegistered,
    catalog.ServiceDefined,
    *HOLD_ANSWERS,
    holds.AllocationCancelled,
    holds.HoldReleased,
    holds.SlotsChanged,
)
"""What booking acts on from availability: its holds' answers, a slot given back and a
day's changed view (both for the waitlist); resource changes are skipped."""

Handle = Callable[[Any, UnitOfWork], None]


class RequestRefused(Rejected):
    """A request that cannot be carried out: answered with its reason, not dead-lettered."""

    def __init__(self, reason: public.BookingRequestRefusal, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason, self.detail = reason, detail


_REFUSALS: tuple[tuple[type[Exception], public.BookingRequestRefusal], ...] = (
    (UnknownBooking, public.BookingRequestRefusal.UNKNOWN_BOOKING),
    (InvalidTransition, public.BookingRequestRefusal.NOT_ALLOWED),
    (IdempotencyKeyReused, public.BookingRequestRefusal.IDEMPOTENCY_KEY_REUSED),
    (InvalidContact, public.BookingRequestRefusal.INVALID_CONTACT),
    (NotAuthorized, public.BookingRequestRefusal.NOT_AUTHORIZED),
)


def _answer(
    message: Any, booking_id: str, answer: Answer, reason: str, detail: str = ""
) -> RequestAnswer:
    return RequestAnswer(
        tenant_id=message.tenant_id,
        message_id=str(message.event_id),
        request_id=message.request_id,
        booking_id=booking_id,
        request_type=message.event_type,
        answer=answer.value,
        reason=reason,
        detail=detail[:500],
    )


def answer_refusal(message: Any, rejection: Rejected, work: UnitOfWork) -> None:
    """A refused request's answer (``BookingRequestRefused``), recorded with it."""
    if isinstance(message, requests.BookingRequested):
        booking_id = str(Booking.create_id(message.tenant_id, message.request_id))
    else:
        booking_id = message.booking_id
    if isinstance(rejection, RequestRefused):
        reason, detail = rejection.reason.value, rejection.detail
    else:
        reason, detail = public.BookingRequestRefusal.NOT_ALLOWED.value, str(rejection)
    work.add(_answer(message, booking_id, Answer.REFUSED, reason, detail))


def _requests(app: BookingApplication, proof: ChangeProof, clear_requests: bool) -> Handle:
    def apply(message: Message, work: UnitOfWork) -> None:
        try:
            match message:
                case requests.BookingRequested():
                    check_sealed(message, clear_requests)
                    asked = message

                    def repeated(booking: Booking, work: UnitOfWork) -> None:
                        status = booking.status.value
                        work.add(_answer(asked, str(booking.id), Answer.REPEATED, status))

                    app.request_booking(message, work=work, repeated=repeated)
                case requests.BookingCancellationRequested():
                    booking_id = _booking_uuid(message.booking_id)
                    proof.check(message.authorization, message.tenant_id, booking_id, work)
                    app.cancel(
                        message.tenant_id,
                        booking_id,
                        Actor.CUSTOMER,
                        message.reason,
                        request_id=message.request_id,
                        work=work,
                    )
                case requests.BookingRescheduleRequested():
                    booking_id = _booking_uuid(message.booking_id)
                    proof.check(message.authorization, message.tenant_id, booking_id, work)
                    app.reschedule(
                        message.tenant_id,
                        booking_id,
                        Actor.CUSTOMER,
                        message.slot_start,
                        message.preferred_staff_id,
                        message.request_id,
                        work=work,
                    )
                case _:
                    raise Rejected(f"booking does not handle {message.event_type}")
        except tuple(kind for kind, _ in _REFUSALS) as error:
            reason = next(r for kind, r in _REFUSALS if isinstance(error, kind))
            raise RequestRefused(reason, str(error)) from error

    return apply


def check_sealed(request: requests.BookingRequested, clear_requests: bool) -> None:
    """A new request's sealed fields opened, and (without ``clear_requests``) none came
    in clear; :class:`RequestRefused` (``unreadable``, ``not_sealed``) otherwise."""
    if request.unreadable:
        raise RequestRefused(public.BookingRequestRefusal.UNREADABLE, "; ".join(request.unreadable))
    in_clear = [
        field
        for field in request_sealing.SEALED_FIELDS
        if getattr(request, field) is not None and not request.came_sealed(field)
    ]
    if in_clear and not clear_requests:
        raise RequestRefused(
            public.BookingRequestRefusal.NOT_SEALED,
            f"{' and '.join(in_clear)} must be sealed to the tenant's request key "
            f"(GET /v1/public/{request.tenant_id}/request-key)",
        )


def _request_reads(app: BookingApplication) -> Reads:
    def reads(message: Message) -> list[UUID]:
        if isinstance(message, requests.BookingRequested):
            return app.request_reads(message) if not message.unreadable else []
        changes = (requests.BookingCancellationRequested, requests.BookingRescheduleRequested)
        return [UUID(message.booking_id)] if isinstance(message, changes) else []

    return reads


def _answered_booking(message: Message) -> list[UUID]:
    """A hold's answer is about the booking whose id is the hold's; a day's view, about
    that day's waitlist line (read with the batch's other aggregates, in one query)."""
    if isinstance(message, holds.SlotsChanged):
        day = (message.tenant_id, message.service_id, message.location_id, message.day)
        return [WaitlistLine.create_id(*day)]
    answer: Any = message  # one of HOLD_ANSWERS, each with a hold_id
    freed = (holds.AllocationCancelled, holds.HoldReleased)
    return [UUID(answer.hold_id)] if isinstance(message, (*HOLD_ANSWERS, *freed)) else []


def _paid_booking(message: Message) -> list[UUID]:
    paid = (payments.PaymentAuthorized, payments.PaymentAuthorizationFailed)
    return [UUID(message.booking_id)] if isinstance(message, paid) else []


def _read_day(view: holds.SlotsChanged) -> holds.SlotsChanged:
    """The view with its slots (left unread by :func:`parse_record`): refused if they
    break the contract."""
    if not isinstance(view, UnreadDay):
        return view
    try:
        return view.read()
    except ContractViolation as error:
        raise Rejected(str(error)) from error


def _booking_uuid(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise UnknownBooking(f"booking_id {text!r} is not a booking id") from None


def _availability(app: BookingApplication) -> Handle:
    def apply(message: Message, work: UnitOfWork) -> None:
        tenant = message.tenant_id
        match message:
            case catalog.LocationRegistered() | catalog.ServiceDefined():
                app.catalog.record(message, work)
            case holds.HoldPlaced():
                placed = message

                def held(b: Booking) -> None:
                    b.hold_placed(
                        placed.slot.start, placed.slot.end, placed.resource_ids, placed.expires_at
                    )

                app.on_booking(tenant, message.hold_id, held, work)
            case holds.HoldRejected():
                refusal = refusal_from(
                    _booking_reason(message.reason),
                    message.detail,
                    [(o.slot.start, o.slot.end) for o in message.alternatives],
                )
                app.on_booking(tenant, message.hold_id, lambda b: b.hold_refused(refusal), work)
            case holds.HoldConfirmed():
                confirmed = message

                def allocated(b: Booking) -> None:
                    b.hold_confirmed(
                        confirmed.slot.start, confirmed.slot.end, confirmed.resource_ids
                    )

                app.on_booking(tenant, message.hold_id, allocated, work)
            case holds.HoldExpired():
                lapsed = _freed_its_slot(app, message, FreedBy.EXPIRED, work)

                def expired(b: Booking) -> None:
                    b.hold_expired()
                    app.waitlist.follow(b, work)  # an offer passes before its slot is free
                    lapsed(b)

                app.on_booking(tenant, message.hold_id, expired, work)
            case holds.HoldRescheduled():
                moved = message

                def rescheduled(b: Booking) -> None:
                    b.hold_rescheduled(moved.slot.start, moved.slot.end, moved.resource_ids)
                    previous = moved.previous_slot.start
                    app.waitlist.slot_freed(b, previous, moved.occurred_at, FreedBy.MOVED, work)

                app.on_booking(tenant, message.hold_id, rescheduled, work)
            case holds.SlotsChanged():
                if app.waitlist.waits_on(message, work):  # most days have no line
                    app.waitlist.slots_shown(_read_day(message), work)
            case holds.AllocationCancelled():
                freed = _freed_its_slot(app, message, FreedBy.CANCELLED, work)
                app.on_booking(tenant, message.hold_id, freed, work)
            case holds.HoldReleased():
                freed = _freed_its_slot(app, message, FreedBy.RELEASED, work)
                app.on_booking(tenant, message.hold_id, freed, work)
            case holds.HoldRescheduleRefused():
                refusal = refusal_from(
                    _booking_reason(message.reason),
                    message.detail,
                    [(o.slot.start, o.slot.end) for o in message.alternatives],
                )
                app.on_booking(
                    tenant, message.hold_id, lambda b: b.reschedule_refused(refusal), work
                )

    return apply


def _freed_its_slot(
    app: BookingApplication, message: Message, by: FreedBy, work: UnitOfWork
) -> Callable[[Booking], None]:
    """The booking's slot was given back by availability (``by``): its waitlist may
    take it."""

    def freed(booking: Booking) -> None:
        app.waitlist.slot_freed(booking, booking.slot_start, message.occurred_at, by, work)

    return freed


def _booking_reason(reason: HoldRejection) -> str:
    """Availability's refusal as booking's (a taken slot is ``slot_taken`` to a customer)."""
    if reason is HoldRejection.TAKEN:
        return public.BookingRejection.SLOT_TAKEN.value
    return reason.value


def _payments(app: BookingApplication) -> Handle:
    def apply(message: Message, work: UnitOfWork) -> None:
        match message:
            case payments.PaymentAuthorized():
                amount = Money(message.amount.amount_minor, message.amount.currency)
                payment_id = message.payment_id
                app.on_booking(
                    message.tenant_id,
                    message.booking_id,
                    lambda b: b.payment_authorized(payment_id, amount),
                    work,
                )
            case payments.PaymentAuthorizationFailed():
                failure = message
                app.on_booking(
                    message.tenant_id,
                    message.booking_id,
                    lambda b: b.payment_failed(failure.reason.value, failure.detail),
                    work,
                )

    return apply
