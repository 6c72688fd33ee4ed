"""Kafka side of the booking service.

Publishes (through the outbox relay) the life of each booking on ``booking.events.v1``
and its hold commands on ``availability.commands.v1`` (key: the booking id, which is
the hold id, so one booking's commands stay in order). Consumes booking requests,
availability's hold outcomes and catalogue, payments' authorisations, and — for the
customer timeline — calls and notifications, each through the idempotent inbox.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from slotline.booking.application import (
    BookingApplication,
    IdempotencyKeyReused,
    UnknownBooking,
    refusal_from,
)
from slotline.booking.domain.booking import Actor, Booking, InvalidTransition
from slotline.booking.domain.contact import InvalidContact
from slotline.booking.domain.customer import Customer
from slotline.booking.domain.money import Money
from slotline.booking.domain.policy import PolicyTier
from slotline.booking.domain.request_answer import Answer, RequestAnswer
from slotline.booking.links import ManageLinks
from slotline.booking.live.timeline import Timeline
from slotline.events.contract import availability as holds
from slotline.events.contract import availability_catalog as catalog
from slotline.events.contract import availability_commands as commands
from slotline.events.contract import booking as public
from slotline.events.contract import booking_requests as requests
from slotline.events.contract import payments
from slotline.events.contract.common import Consents, Contact, HoldRejection, SlotOffer, TimeSlot
from slotline.events.contract.common import Money as WireMoney
from slotline.events.envelope import Message
from slotline.events.inbox import Identity, Reads, Rejected
from slotline.events.publishing import Publisher
from slotline.events.runtime import Subscription
from slotline.events.topics import (
    AVAILABILITY_EVENTS,
    BOOKING_REQUESTS,
    CALLS_EVENTS,
    NOTIFICATIONS_EVENTS,
    PAYMENTS_EVENTS,
)
from slotline.events.unit_of_work import UnitOfWork

# --- publishing ------------------------------------------------------------------------


def publisher(links: ManageLinks) -> Publisher:
    """What booking publishes, by event class: each stored event of a booking, customer,
    price tier or request answer, from the aggregate right after it (so a replay
    publishes the same). Reference and idempotency claims are internal; so are a
    payment (the next step is what others see), an arrival and a contact update."""
    table = Publisher(Booking, Customer, PolicyTier, RequestAnswer)

    @table.on(Booking.Requested)
    def requested(booking: Booking, _: Booking.Requested) -> Message:
        if booking.refusal is not None:
            return _rejected(booking)
        return commands.PlaceHold(
            **_common(booking),
            hold_id=str(booking.id),
            request_id=booking.request_id,
            service_id=booking.terms.service_id,
            location_id=booking.terms.location_id,
            slot_start=booking.slot_start,
            preferred_resource_id=booking.preferred_staff_id or booking.preferred_resource_id,
            ttl_seconds=booking.hold_ttl_seconds,
        )

    @table.on(Booking.Held)
    def held(booking: Booking, _: Booking.Held) -> Message:
        assert booking.hold_expires_at is not None
        return public.BookingHeld(
            **_ids(booking),
            reference=booking.reference,
            channel=booking.channel,
            customer_id=str(booking.customer_id),
            contact=_contact(booking.contact_data),
            consents=Consents(**booking.consents),
            service_id=booking.terms.service_id,
            location_id=booking.terms.location_id,
            time_zone=booking.terms.time_zone,
            slot=_slot(booking),
            resource_ids=booking.resource_ids,
            hold_expires_at=booking.hold_expires_at,
        )

    @table.on(Booking.DepositAsked)
    def deposit_asked(booking: Booking, asked: Booking.DepositAsked) -> Message:
        return public.DepositRequested(
            **_ids(booking),
            amount=WireMoney(**asked.amount),
            kind=asked.kind,
            price_tier=booking.terms.price_tier,
            payment_token=booking.payment_token,
        )

    @table.on(Booking.ConfirmationAsked)
    def confirmation_asked(booking: Booking, _: Booking.ConfirmationAsked) -> Message:
        return commands.ConfirmHold(**_common(booking), hold_id=str(booking.id))

    @table.on(Booking.Confirmed)
    def confirmed(booking: Booking, _: Booking.Confirmed) -> Message:
        return _confirmed(booking, links)

    @table.on(Booking.Rejected)
    def rejected(booking: Booking, _: Booking.Rejected) -> Message:
        return _rejected(booking)

    @table.on(Booking.ReleaseAsked)
    def release_asked(booking: Booking, asked: Booking.ReleaseAsked) -> Message:
        return commands.ReleaseHold(
            **_common(booking), hold_id=str(booking.id), reason=asked.reason
        )

    @table.on(Booking.Expired)
    def expired(booking: Booking, _: Booking.Expired) -> Message:
        return public.BookingExpired(**_ids(booking))

    @table.on(Booking.Cancelled)
    def cancelled(booking: Booking, cancel: Booking.Cancelled) -> Message:
        answers = getattr(cancel, "request_id", None)  # absent before 2026-12
        return public.BookingCancelled(
            **{**_ids(booking), "request_id": answers or booking.request_id},
            by=public.Actor(cancel.by),
            within_free_window=cancel.within_free_window,
            fee=_money(cancel.fee),
            refund=_money(cancel.refund),
            reason=cancel.reason,
        )

    @table.on(Booking.AllocationCancelAsked)
    def allocation_cancel_asked(booking: Booking, asked: Booking.AllocationCancelAsked) -> Message:
        return commands.CancelAllocation(
            **_common(booking), hold_id=str(booking.id), reason=asked.reason[:200]
        )

    @table.on(Booking.RescheduleAsked)
    def reschedule_asked(booking: Booking, asked: Booking.RescheduleAsked) -> Message:
        change = asked.change
        return commands.RescheduleHold(
            **_common(booking),
            hold_id=str(booking.id),
            slot=TimeSlot(start=change["start"], end=change["end"]),
            preferred_resource_id=change["preferred_staff_id"],
        )

    @table.on(Booking.Rescheduled)
    def rescheduled(booking: Booking, moved: Booking.Rescheduled) -> Message:
        assert booking.last_change is not None
        change = booking.last_change
        previous = TimeSlot(start=moved.previous_start, end=moved.previous_end)
        return public.BookingRescheduled(
            **{**_ids(booking), "request_id": change.get("request_id") or booking.request_id},
            by=public.Actor(change["by"]),
            previous_slot=previous,
            slot=_slot(booking),
            resource_ids=booking.resource_ids,
            change_number=int(change["change_number"]),
            change_fee=_money(change["fee"]),
        )

    @table.on(Booking.ChangeRefused)
    def change_refused(booking: Booking, refused: Booking.ChangeRefused) -> Message:
        refusal = refused.refusal
        return public.BookingChangeRefused(
            **{**_ids(booking), "request_id": refusal.get("request_id") or booking.request_id},
            reason=refusal["reason"],
            detail=refusal.get("detail", "")[:500],
            alternatives=_offers(refusal.get("alternatives", [])),
        )

    @table.on(Booking.Completed)
    def completed(booking: Booking, _: Booking.Completed) -> Message:
        return public.BookingCompleted(**_ids(booking))

    @table.on(Booking.NoShow)
    def no_show(booking: Booking, missed: Booking.NoShow) -> Message:
        return public.BookingNoShow(**_ids(booking), fee=_money(missed.fee))

    @table.on(Customer.Registered)
    def registered(customer: Customer, _: Customer.Registered) -> Message:
        return public.CustomerRegistered(
            tenant_id=customer.tenant_id,
            aggregate_id=str(customer.id),
            customer_id=str(customer.id),
            contact=_contact(customer.contact_data),
        )

    @table.on(PolicyTier.Defined, PolicyTier.Redefined)
    def policy_defined(tier: PolicyTier, _: Any) -> Message:
        return _policy_defined(tier)

    @table.on(RequestAnswer.Given)
    def answered(answer: RequestAnswer, _: RequestAnswer.Given) -> Message:
        return _answer_message(answer)

    return table


def _common(booking: Booking) -> dict[str, Any]:
    """What every message of a booking carries (a command to availability has no more)."""
    return {
        "tenant_id": booking.tenant_id,
        "aggregate_id": str(booking.id),
        "correlation_id": booking.request_id,
    }


def _ids(booking: Booking) -> dict[str, Any]:
    """What every event of a booking carries."""
    return {**_common(booking), "booking_id": str(booking.id), "request_id": booking.request_id}


def _slot(booking: Booking) -> TimeSlot:
    return TimeSlot(start=booking.slot_start, end=booking.slot_end)


def _confirmed(booking: Booking, links: ManageLinks) -> public.BookingConfirmed:
    terms = booking.terms
    policy = booking.policy
    return public.BookingConfirmed(
        **_ids(booking),
        reference=booking.reference,
        customer_id=str(booking.customer_id),
        contact=_contact(booking.contact_data),
        consents=Consents(**booking.consents),
        service_id=terms.service_id,
        service_name=terms.service_name,
        location_id=terms.location_id,
        time_zone=terms.time_zone,
        slot=_slot(booking),
        resource_ids=booking.resource_ids,
        price=_money(policy.price.to_data() if policy.price else None),
        paid=_money(booking.paid),
        free_cancellation_until=booking.free_cancellation_until(),
        manage_url=links.url(booking.tenant_id, booking.id, booking.slot_end),
        channel=booking.channel,
        source_call_id=booking.source_call_id,
        location_name=terms.location_name or None,
        address=terms.address,
    )


def _rejected(booking: Booking) -> public.BookingRejected:
    refusal = booking.refusal
    assert refusal is not None
    return public.BookingRejected(
        **_ids(booking),
        reason=refusal.reason,
        detail=refusal.detail[:500],
        alternatives=[SlotOffer(slot=TimeSlot(start=s, end=e)) for s, e in refusal.alternatives],
        channel=booking.channel,
    )


def _answer_message(answer: RequestAnswer) -> Message:
    ids: dict[str, Any] = {
        "tenant_id": answer.tenant_id,
        "aggregate_id": answer.booking_id,  # in order with the booking's own events
        "correlation_id": answer.request_id,
        "booking_id": answer.booking_id,
        "request_id": answer.request_id,
        "request_type": answer.request_type,
    }
    if answer.answer is Answer.REPEATED:
        return public.BookingRequestRepeated(**ids, status=answer.reason)
    return public.BookingRequestRefused(**ids, reason=answer.reason, detail=answer.detail)


def _policy_defined(tier: PolicyTier) -> public.PolicyDefined:
    policy = tier.policy
    return public.PolicyDefined(
        tenant_id=tier.tenant_id,
        aggregate_id=f"{tier.tenant_id}:{tier.tier}",
        price_tier=tier.tier,
        price=_money(policy.price.to_data() if policy.price else None),
        tax_rate_basis_points=policy.tax_rate_basis_points,
        taxes_included=policy.taxes_included,
        payment=public.PaymentRequirement(policy.payment.value),
        deposit=_money(policy.deposit.to_data() if policy.deposit else None),
        deposit_percent=policy.deposit_percent,
        free_cancellation_hours=policy.free_cancellation_hours,
        late_cancellation_fee=_money(
            policy.late_cancellation_fee.to_data() if policy.late_cancellation_fee else None
        ),
        no_show_fee=_money(policy.no_show_fee.to_data() if policy.no_show_fee else None),
        free_changes=policy.free_changes,
        change_fee=_money(policy.change_fee.to_data() if policy.change_fee else None),
    )


def _contact(data: dict[str, Any]) -> Contact:
    return Contact(
        name=data["name"],
        phone=data.get("phone"),
        email=data.get("email"),
        language=data.get("language") or "en",
    )


def _money(data: dict[str, Any] | None) -> WireMoney | None:
    return WireMoney(**data) if data else None


def _offers(pairs: list[list[str]]) -> list[SlotOffer]:
    return [SlotOffer(slot=TimeSlot(start=s, end=e)) for s, e in pairs]


# --- consuming ---------------------------------------------------------------------------


def subscriptions(application: BookingApplication) -> Sequence[Subscription]:
    """Each topic's messages are applied in batches, one unit of work per batch."""
    timeline = Timeline(application)
    answers = _availability(application)
    money = _payments(application)
    asked = _requests(application)
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
)
"""What booking acts on from availability; slot views and resource changes are skipped."""

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


def _requests(app: BookingApplication) -> Handle:
    def apply(message: Message, work: UnitOfWork) -> None:
        try:
            match message:
                case requests.BookingRequested():
                    asked = message

                    def repeated(booking: Booking, work: UnitOfWork) -> None:
                        status = booking.status.value
                        work.add(_answer(asked, str(booking.id), Answer.REPEATED, status))

                    app.request_booking(message, work=work, repeated=repeated)
                case requests.BookingCancellationRequested():
                    app.cancel(
                        message.tenant_id,
                        _booking_uuid(message.booking_id),
                        Actor.CUSTOMER,
                        message.reason,
                        request_id=message.request_id,
                        work=work,
                    )
                case requests.BookingRescheduleRequested():
                    app.reschedule(
                        message.tenant_id,
                        _booking_uuid(message.booking_id),
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


def _request_reads(app: BookingApplication) -> Reads:
    def reads(message: Message) -> list[UUID]:
        if isinstance(message, requests.BookingRequested):
            return app.request_reads(message)
        changes = (requests.BookingCancellationRequested, requests.BookingRescheduleRequested)
        return [UUID(message.booking_id)] if isinstance(message, changes) else []

    return reads


def _answered_booking(message: Message) -> list[UUID]:
    """A hold's answer is about the booking whose id is the hold's."""
    answer: Any = message  # one of HOLD_ANSWERS, each with a hold_id
    return [UUID(answer.hold_id)] if isinstance(message, HOLD_ANSWERS) else []


def _paid_booking(message: Message) -> list[UUID]:
    paid = (payments.PaymentAuthorized, payments.PaymentAuthorizationFailed)
    return [UUID(message.booking_id)] if isinstance(message, paid) else []


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
                app.catalog.record(work.cursor, message)
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
                app.on_booking(tenant, message.hold_id, lambda b: b.hold_expired(), work)
            case holds.HoldRescheduled():
                moved = message

                def rescheduled(b: Booking) -> None:
                    b.hold_rescheduled(moved.slot.start, moved.slot.end, moved.resource_ids)

                app.on_booking(tenant, message.hold_id, rescheduled, work)
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
