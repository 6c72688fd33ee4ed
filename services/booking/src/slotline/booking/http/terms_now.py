"""What cancelling or moving a booking would cost *now*, under the policy it was made
under — so a customer (manage link) or the front desk sees the fee or refund before
confirming, from the same rule the change itself applies."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, Field

from slotline.booking.domain.booking import Booking, BookingStatus
from slotline.booking.http.audit_points import BOOKING_READ
from slotline.booking.http.card import Amount, amount
from slotline.booking.http.deps import Bookings, Links, Staff
from slotline.booking.http.manage import Token, granted

router = APIRouter(tags=["manage"])


class ChangeTerms(BaseModel):
    can_cancel: bool
    can_move: bool
    within_free_window: bool
    free_cancellation_until: datetime
    cancellation_fee: Amount | None = Field(description="What cancelling now would cost.")
    refund: Amount | None
    late_cancellation_fee: Amount | None = Field(
        description="What cancelling after free_cancellation_until costs (None: nothing)."
    )
    no_show_fee: Amount | None = Field(
        description="What not coming without cancelling costs, from the start (None: nothing)."
    )
    starts_at: datetime = Field(description="The booking's start: the no-show fee's moment.")
    paid: Amount | None
    next_change_fee: Amount | None
    free_changes_left: int


def terms_now(booking: Booking, now: datetime) -> ChangeTerms:
    policy = booking.policy
    decision = policy.cancellation(booking.slot_start, now, booking.amount_paid)
    open_ = booking.status is BookingStatus.CONFIRMED and now < booking.slot_start
    return ChangeTerms(
        can_cancel=open_,
        can_move=open_ and booking.pending_change is None,
        within_free_window=decision.within_free_window,
        free_cancellation_until=booking.free_cancellation_until(),
        cancellation_fee=amount(decision.fee),
        refund=amount(decision.refund),
        late_cancellation_fee=amount(policy.late_cancellation_fee),
        no_show_fee=amount(policy.no_show_fee),
        starts_at=booking.slot_start,
        paid=amount(booking.amount_paid),
        next_change_fee=amount(policy.change_fee_for(booking.changes + 1)),
        free_changes_left=max(0, policy.free_changes - booking.changes),
    )


@router.get("/v1/manage/{token}/terms", response_model=ChangeTerms)
def customer_terms(token: Token, app: Bookings, links: Links) -> ChangeTerms:
    tenant_id, booking_id = granted(token, app, links)
    return terms_now(app.booking(tenant_id, booking_id), app.clock())


@router.get(
    "/v1/bookings/{booking_id}/terms", response_model=ChangeTerms, dependencies=[BOOKING_READ]
)
def staff_terms(booking_id: UUID, principal: Staff, app: Bookings) -> ChangeTerms:
    return terms_now(app.booking(principal.tenant_id, booking_id), app.clock())
