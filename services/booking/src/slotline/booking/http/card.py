"""The booking status card: what a customer or the front desk sees of one booking —
service, time in the location's zone, status, payment, cancellation window, links."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from slotline.booking.domain.booking import Booking, BookingStatus
from slotline.booking.domain.money import Money
from slotline.booking.links import ManageLinks

_CUSTOMER_STATUS = {
    BookingStatus.REQUESTED: "pending",
    BookingStatus.AWAITING_PAYMENT: "held",
    BookingStatus.CONFIRMING: "held",
}


class Amount(BaseModel):
    amount_minor: int
    currency: str
    text: str


class Alternative(BaseModel):
    start: datetime
    end: datetime
    local_start: str


class BookingCard(BaseModel):
    booking_id: str
    tenant_id: str
    reference: str
    status: str
    saga_status: str
    reason: str | None = None
    detail: str | None = None
    alternatives: list[Alternative] = []
    service_id: str
    service_name: str
    location_id: str
    location_name: str
    address: str | None
    time_zone: str
    start: datetime
    end: datetime
    local_start: str
    local_end: str
    resource_ids: list[str]
    hold_expires_at: datetime | None
    price: Amount | None
    payment_status: str
    paid: Amount | None
    free_cancellation_until: datetime
    changes_made: int
    free_changes_left: int
    change_pending: bool
    arrived_at: datetime | None = None
    customer_id: str
    channel: str
    manage_url: str
    ics_url: str
    events_url: str


def amount(money: Money | None) -> Amount | None:
    if money is None:
        return None
    return Amount(
        amount_minor=money.amount_minor,
        currency=money.currency,
        text=f"{money.amount_minor / 100:.2f} {money.currency}",
    )


def local(moment: datetime, zone: str) -> str:
    """ISO 8601 with the location's offset, e.g. 2026-12-01T10:00:00+02:00."""
    return moment.astimezone(ZoneInfo(zone)).isoformat()


def card(booking: Booking, links: ManageLinks) -> BookingCard:
    terms = booking.terms
    refusal = booking.refusal
    manage = links.url(booking.tenant_id, booking.id, booking.slot_end, booking.link_version)
    detail: str | None = refusal.detail if refusal else None
    if booking.status is BookingStatus.EXPIRED:
        detail = booking.status_reason
    extra: dict[str, Any] = {}
    if booking.last_change_refusal and booking.status is BookingStatus.CONFIRMED:
        extra["detail"] = "last change refused: " + (
            booking.last_change_refusal.get("detail") or booking.last_change_refusal["reason"]
        )
    return BookingCard(
        booking_id=str(booking.id),
        tenant_id=booking.tenant_id,
        reference=booking.reference,
        status=_CUSTOMER_STATUS.get(booking.status, booking.status.value),
        saga_status=booking.status.value,
        reason=refusal.reason if refusal else booking.status_reason,
        detail=extra.get("detail", detail),
        alternatives=[
            Alternative(start=s, end=e, local_start=local(s, terms.time_zone))
            for s, e in (refusal.alternatives if refusal else ())
        ],
        service_id=terms.service_id,
        service_name=terms.service_name,
        location_id=terms.location_id,
        location_name=terms.location_name,
        address=terms.address,
        time_zone=terms.time_zone,
        start=booking.slot_start,
        end=booking.slot_end,
        local_start=local(booking.slot_start, terms.time_zone),
        local_end=local(booking.slot_end, terms.time_zone),
        resource_ids=booking.resource_ids,
        hold_expires_at=booking.hold_expires_at,
        price=amount(booking.policy.price),
        payment_status=booking.payment_status,
        paid=amount(booking.amount_paid),
        free_cancellation_until=booking.free_cancellation_until(),
        changes_made=booking.changes,
        free_changes_left=max(0, booking.policy.free_changes - booking.changes),
        change_pending=booking.pending_change is not None,
        arrived_at=booking.arrived_at,
        customer_id=str(booking.customer_id),
        channel=booking.channel,
        manage_url=manage,
        ics_url=f"{manage}/booking.ics",
        events_url=f"{manage}/events",
    )
