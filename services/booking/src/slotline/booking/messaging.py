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
from slotline.events.inbox import Identity, Rejected
from slotline.events.relay import IntegrationMapper
from slotline.events.runtime import Subscription
from slotline.events.store import ServiceApplication
from slotline.events.topics import (
    AVAILABILITY_EVENTS,
    BOOKING_REQUESTS,
    CALLS_EVENTS,
    NOTIFICATIONS_EVENTS,
    PAYMENTS_EVENTS,
)
from slotline.events.unit_of_work import UnitOfWork

# --- publishing ------------------------------------------------------------------------


def publisher(links: ManageLinks) -> Callable[[ServiceApplication], IntegrationMapper]:
    """The mapper factory: each stored event to its message, from the aggregate as it
    was right after the event (so a replay publishes the same)."""

    def factory(application: ServiceApplication) -> IntegrationMapper:
        def publish(domain_event: Any) -> Message | None:
            owner, _, name = type(domain_event).__qualname__.partition(".")
            if owner not in {"Booking", "Customer", "PolicyTier", "RequestAnswer"}:
                return None  # reference and idempotency claims are internal
            aggregate: Any = application.repository.get(
                domain_event.originator_id, version=domain_event.originator_version
            )
            if isinstance(aggregate, RequestAnswer):
                return _answer_message(aggregate)
            if isinstance(aggregate, Booking):
                return booking_message(aggregate, name, domain_event, links)
            if isinstance(aggregate, Customer) and name == "Registered":
                return public.CustomerRegistered(
                    tenant_id=aggregate.tenant_id,
                    aggregate_id=str(aggregate.id),
                    customer_id=str(aggregate.id),
                    contact=_contact(aggregate.contact_data),
                )
            if isinstance(aggregate, PolicyTier):
                return _policy_defined(aggregate)
            return None

        return publish

    return factory


def booking_message(
    booking: Booking, name: str, domain_event: Any, links: ManageLinks
) -> Message | None:
    common: dict[str, Any] = {
        "tenant_id": booking.tenant_id,
        "aggregate_id": str(booking.id),
        "correlation_id": booking.request_id,
    }
    ids: dict[str, Any] = {
        **common,
        "booking_id": str(booking.id),
        "request_id": booking.request_id,
    }
    slot = TimeSlot(start=booking.slot_start, end=booking.slot_end)
    match name:
        case "Requested" if booking.refusal is not None:
            return _rejected(booking, ids)
        case "Requested":
            return commands.PlaceHold(
                **common,
                hold_id=str(booking.id),
                request_id=booking.request_id,
                service_id=booking.terms.service_id,
                location_id=booking.terms.location_id,
                slot_start=booking.slot_start,
                preferred_resource_id=booking.preferred_staff_id or booking.preferred_resource_id,
                ttl_seconds=booking.hold_ttl_seconds,
            )
        case "Held":
            assert booking.hold_expires_at is not None
            return public.BookingHeld(
                **ids,
                reference=booking.reference,
                channel=booking.channel,
                customer_id=str(booking.customer_id),
                contact=_contact(booking.contact_data),
                consents=Consents(**booking.consents),
                service_id=booking.terms.service_id,
                location_id=booking.terms.location_id,
                time_zone=booking.terms.time_zone,
                slot=slot,
                resource_ids=booking.resource_ids,
                hold_expires_at=booking.hold_expires_at,
            )
        case "DepositAsked":
            return public.DepositRequested(
                **ids,
                amount=WireMoney(**domain_event.amount),
                kind=domain_event.kind,
                price_tier=booking.terms.price_tier,
                payment_token=booking.payment_token,
            )
        case "ConfirmationAsked":
            return commands.ConfirmHold(**common, hold_id=str(booking.id))
        case "Confirmed":
            return _confirmed(booking, ids, slot, links)
        case "Rejected":
            return _rejected(booking, ids)
        case "ReleaseAsked":
            return commands.ReleaseHold(
                **common, hold_id=str(booking.id), reason=domain_event.reason
            )
        case "Expired":
            return public.BookingExpired(**ids)
        case "Cancelled":
            answers = getattr(domain_event, "request_id", None)  # absent before 2026-12
            return public.BookingCancelled(
                **{**ids, "request_id": answers or booking.request_id},
                by=public.Actor(domain_event.by),
                within_free_window=domain_event.within_free_window,
                fee=_money(domain_event.fee),
                refund=_money(domain_event.refund),
                reason=domain_event.reason,
            )
        case "AllocationCancelAsked":
            return commands.CancelAllocation(
                **common, hold_id=str(booking.id), reason=domain_event.reason[:200]
            )
        case "RescheduleAsked":
            change = domain_event.change
            return commands.RescheduleHold(
                **common,
                hold_id=str(booking.id),
                slot=TimeSlot(start=change["start"], end=change["end"]),
                preferred_resource_id=change["preferred_staff_id"],
            )
        case "Rescheduled":
            assert booking.last_change is not None
            change = booking.last_change
            previous = TimeSlot(start=domain_event.previous_start, end=domain_event.previous_end)
            return public.BookingRescheduled(
                **{**ids, "request_id": change.get("request_id") or booking.request_id},
                by=public.Actor(change["by"]),
                previous_slot=previous,
                slot=slot,
                resource_ids=booking.resource_ids,
                change_number=int(change["change_number"]),
                change_fee=_money(change["fee"]),
            )
        case "ChangeRefused":
            refusal = domain_event.refusal
            return public.BookingChangeRefused(
                **{**ids, "request_id": refusal.get("request_id") or booking.request_id},
                reason=refusal["reason"],
                detail=refusal.get("detail", "")[:500],
                alternatives=_offers(refusal.get("alternatives", [])),
            )
        case "Completed":
            return public.BookingCompleted(**ids)
        case "NoShow":
            return public.BookingNoShow(**ids, fee=_money(domain_event.fee))
    return None  # Paid: internal, the next step is what others see


def _confirmed(
    booking: Booking, ids: dict[str, Any], slot: TimeSlot, links: ManageLinks
) -> public.BookingConfirmed:
    terms = booking.terms
    policy = booking.policy
    return public.BookingConfirmed(
        **ids,
        reference=booking.reference,
        customer_id=str(booking.customer_id),
        contact=_contact(booking.contact_data),
        consents=Consents(**booking.consents),
        service_id=terms.service_id,
        service_name=terms.service_name,
        location_id=terms.location_id,
        time_zone=terms.time_zone,
        slot=slot,
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


def _rejected(booking: Booking, ids: dict[str, Any]) -> public.BookingRejected:
    refusal = booking.refusal
    assert refusal is not None
    return public.BookingRejected(
        **ids,
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


def subscriptions(application: ServiceApplication) -> Sequence[Subscription]:
    """Each topic's messages are applied in batches, one unit of work per batch."""
    if not isinstance(application, BookingApplication):
        return ()
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
        ),
        Subscription(AVAILABILITY_EVENTS, handlers=dict.fromkeys(AVAILABILITY_ANSWERS, answers)),
        Subscription(
            PAYMENTS_EVENTS,
            handlers={
                payments.PaymentAuthorized: money,
                payments.PaymentAuthorizationFailed: money,
                Message: timeline.handle,
            },
        ),
        Subscription(CALLS_EVENTS, handlers={Message: timeline.handle}),
        Subscription(NOTIFICATIONS_EVENTS, handlers={Message: timeline.handle}),
    )


BOOKING_REQUEST_TYPES: tuple[type[Message], ...] = (
    requests.BookingRequested,
    requests.BookingCancellationRequested,
    requests.BookingRescheduleRequested,
)

AVAILABILITY_ANSWERS: tuple[type[Message], ...] = (
    catalog.LocationRegistered,
    catalog.ServiceDefined,
    holds.HoldPlaced,
    holds.HoldRejected,
    holds.HoldConfirmed,
    holds.HoldExpired,
    holds.HoldRescheduled,
    holds.HoldRescheduleRefused,
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
