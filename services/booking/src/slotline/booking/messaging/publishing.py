"""What booking publishes: each stored event of a booking, customer, price tier or
request answer as its public message on ``booking.events.v1``, and a booking's hold
commands on ``availability.commands.v1`` (key: the booking id, which is the hold id,
so one booking's commands stay in order). Run by the outbox relay.
"""

from __future__ import annotations

from typing import Any

from slotline.booking.domain.booking import Booking
from slotline.booking.domain.customer import Customer
from slotline.booking.domain.policy import PolicyTier
from slotline.booking.domain.request_answer import Answer, RequestAnswer
from slotline.booking.domain.waitlist import WaitlistLine
from slotline.booking.links import ManageLinks
from slotline.booking.messaging.offer_notice import offer_notice
from slotline.events.contract import availability_commands as commands
from slotline.events.contract import booking as public
from slotline.events.contract import waitlist
from slotline.events.contract.common import (
    Consents,
    Contact,
    SlotOffer,
    TimeSlot,
    erased_contact,
)
from slotline.events.contract.common import Money as WireMoney
from slotline.events.envelope import Message
from slotline.events.privacy.personal import ERASED
from slotline.events.publishing import Publisher


def publisher(links: ManageLinks) -> Publisher:
    """What booking publishes, by event class: each stored event of a booking, customer,
    price tier or request answer, from the aggregate right after it (so a replay
    publishes the same). Reference and idempotency claims are internal; so are a
    payment (the next step is what others see), an arrival and a contact update."""
    table = Publisher(Booking, Customer, PolicyTier, RequestAnswer, WaitlistLine)

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
            offered_only=booking.offered_starts_only,
            confirm=booking.confirm_on_placing,
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
            offered_only=Booking.move_offered_only(change),
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

    @table.on(Booking.Offered)
    def offered(booking: Booking, _: Booking.Offered) -> Message | None:
        return offer_notice(booking, links)

    @table.on(WaitlistLine.Joined)
    def joined(line: WaitlistLine, joined: WaitlistLine.Joined) -> Message:
        return waitlist.WaitlistJoined(
            **_line_ids(line, joined.entry_id),
            customer_id=joined.customer_id,
            earliest=joined.earliest,
            latest=joined.latest,
            preferred_staff_id=joined.staff_id,
            position=line.position(joined.entry_id) or 1,
        )

    @table.on(WaitlistLine.OfferSent)
    def offer_sent(line: WaitlistLine, sent: WaitlistLine.OfferSent) -> Message:
        offer = line.offer(sent.booking_id)
        assert offer is not None
        return waitlist.WaitlistOffered(
            **_line_ids(line, offer.entry_id),
            booking_id=sent.booking_id,
            slot=TimeSlot(start=offer.start, end=sent.slot_end),
            offer_expires_at=sent.expires_at,
            slot_freed_at=offer.freed_at,
            slot_freed_by=_freed_by(offer.freed_by),
            freed_booking_id=offer.freed_booking_id,
        )

    @table.on(WaitlistLine.Claimed)
    def claimed(line: WaitlistLine, claim: WaitlistLine.Claimed) -> Message:
        return waitlist.WaitlistClaimed(
            **_line_ids(line, claim.entry_id),
            booking_id=claim.booking_id,
            slot=TimeSlot(start=claim.start, end=claim.end),
            slot_freed_at=claim.freed_at,
            slot_freed_by=_freed_by(claim.freed_by),
            freed_booking_id=claim.freed_booking_id,
        )

    @table.on(WaitlistLine.Passed)
    def passed(line: WaitlistLine, gone: WaitlistLine.Passed) -> Message:
        return waitlist.WaitlistPassed(
            **_line_ids(line, gone.entry_id),
            booking_id=gone.booking_id,
            reason=waitlist.PassReason(gone.reason),
        )

    @table.on(WaitlistLine.Left)
    def left(line: WaitlistLine, gone: WaitlistLine.Left) -> Message:
        return waitlist.WaitlistLeft(**_line_ids(line, gone.entry_id), reason=gone.reason)

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

    @table.on(Customer.Erased)
    def erased(customer: Customer, erased: Customer.Erased) -> Message:
        return public.CustomerErased(
            tenant_id=customer.tenant_id,
            aggregate_id=str(customer.id),
            customer_id=str(customer.id),
            phone_pseudonym=erased.phone_pseudonym,
            email_pseudonym=erased.email_pseudonym,
            erased_at=erased.at,
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


def _freed_by(by: str | None) -> waitlist.SlotFreedBy | None:
    """What freed an offered start (unknown for one freed before the line kept it)."""
    return waitlist.SlotFreedBy(by) if by is not None else None


def _line_ids(line: WaitlistLine, entry_id: str) -> dict[str, Any]:
    """What every event of a waitlist line carries (keyed by the line: in order)."""
    return {
        "tenant_id": line.tenant_id,
        "aggregate_id": str(line.id),
        "entry_id": entry_id,
        "service_id": line.service_id,
        "location_id": line.location_id,
        "day": line.day,
    }


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
        manage_url=links.url(booking.tenant_id, booking.id, booking.slot_end, booking.link_version),
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
    """The contact on the wire; an erased customer's (a record published late, or a
    topic replayed after the erasure) as :func:`erased_contact`."""
    if data.get("name") == ERASED:
        return erased_contact()
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
