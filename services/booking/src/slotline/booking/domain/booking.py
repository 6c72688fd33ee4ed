"""The booking aggregate: one customer's appointment and the saga that gets it there.

Every step is an event, so a restarted service carries on from what is stored; each
"…Asked" event is a request to another service (published as a command or event by
the outbox), recorded in the same transaction as the decision that needs it::

    requested ──hold placed──▶ awaiting_payment ──paid──▶ confirming ──▶ confirmed
        │                    └─(no payment due)────────────┘                │
        ├──hold refused──▶ rejected      payment failed ─▶ rejected + release │
        └──no answer in time ─▶ expired + release    hold expired ─▶ expired  │
                 confirmed ──cancel──▶ cancelled (+ cancel allocation)  ◀──────┘
                 confirmed ──reschedule asked──▶ rescheduled | change refused
                 confirmed ──▶ completed | no_show   (arrived: noted on a confirmed one)

A booking with nothing due first asks availability to confirm its hold in the step that
places it (``confirm_on_placing``): held, it is confirming at once, and no confirmation
is asked (two Kafka hops fewer); a waitlist offer waits for its claim as before.

Answers that arrive late or twice (a hold placed after the saga timed out, a second
payment authorisation) change nothing: the methods below ignore them by status.

Why this file is longer than 400 lines: it is one state machine, the diagram above, of
17 stored events, each with the method that records it and the verb that decides it.
eventsourcing stores an event under its class's topic, here always
``slotline.booking.domain.booking:Booking.<Event>``; the events and their state changes
stay in the class, and what can live apart does (``status``, ``refusal``, ``request``:
the values, and what a new booking is made of).
"""

from __future__ import annotations

from dataclasses import asdict, fields, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from slotline.booking.domain.contact import ContactDetails
from slotline.booking.domain.money import Money
from slotline.booking.domain.policy import PaymentRequirement, Policy
from slotline.booking.domain.refusal import Refusal
from slotline.booking.domain.request import (
    FRONT_DESK_CHANNELS,
    BookingRequest,
    Intake,
    ServiceTerms,
)
from slotline.booking.domain.status import (
    PENDING,
    Actor,
    BookingStatus,
    InvalidTransition,
    MoveAnswer,
    MoveReply,
)
from slotline.events.privacy.personal import personal

__all__ = [
    "PENDING",
    "Actor",
    "Booking",
    "BookingRequest",
    "BookingStatus",
    "Intake",
    "InvalidTransition",
    "Refusal",
    "ServiceTerms",
]

BOOKING_NAMESPACE = uuid5(NAMESPACE_URL, "https://slotline.dev/booking/booking")

HOLD_RAN_OUT = "the hold ran out before the booking was confirmed"
OFFER_NOT_CLAIMED = "the waitlist offer was not claimed in time"
OFFER_DECLINED = "the customer declined the waitlist offer"

REQUEST_FIELDS = tuple(f.name for f in fields(BookingRequest))
INTAKE_FIELDS = tuple(f.name for f in fields(Intake))


class Booking(Aggregate):
    confirm_on_placing = False  # what a booking stored before it could be asked reads

    @staticmethod
    def create_id(tenant_id: str, request_id: str) -> UUID:
        """Deterministic from the request id, so a request sent twice finds its booking."""
        return uuid5(BOOKING_NAMESPACE, f"{tenant_id}:{request_id}")

    @classmethod
    def take(cls, request: BookingRequest, intake: Intake) -> Booking:
        """A new booking: what the channel asked for, as booking took it in."""
        return cls._create(
            cls.Requested,
            id=cls.create_id(request.tenant_id, request.request_id),
            request=asdict(request),
            intake=asdict(intake),
        )

    @personal(
        "request.contact",
        "request.notes",
        subject="intake.customer_id",
        tenant="request.tenant_id",
    )
    class Requested(Aggregate.Created):
        """A channel asked for a slot (or was refused at once: ``intake["refusal"]``):
        ``request`` is a ``BookingRequest``'s fields, ``intake`` an ``Intake``'s.

        Version 1 stored the same fields flat; :meth:`upcast_v1_v2` reads them."""

        class_version = 2

        request: dict[str, Any]
        intake: dict[str, Any]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["request"] = {name: state.pop(name) for name in REQUEST_FIELDS}
            state["intake"] = {name: state.pop(name, None) for name in INTAKE_FIELDS}

    @event(Requested)
    def __init__(self, *, request: dict[str, Any], intake: dict[str, Any]) -> None:
        """A new booking from the stored event (make one with :meth:`take`)."""
        self.tenant_id: str = request["tenant_id"]
        self.request_id: str = request["request_id"]
        self.idempotency_key: str | None = request["idempotency_key"]
        self.fingerprint: str = request["fingerprint"]
        self.channel: str = request["channel"]
        self.contact_data: dict[str, Any] = request["contact"]
        self.consents: dict[str, bool] = request["consents"]
        self.slot_start: datetime = request["slot_start"]
        self.preferred_staff_id: str | None = request["preferred_staff_id"]
        self.preferred_resource_id: str | None = request["preferred_resource_id"]
        self.notes: str | None = request["notes"]
        self.source_call_id: str | None = request["source_call_id"]
        self.payment_token: str | None = request["payment_token"]
        self.reference: str = intake["reference"]
        self.customer_id: UUID = intake["customer_id"]
        self.terms_data: dict[str, Any] = intake["terms"]
        self.slot_end = self.slot_start + timedelta(
            minutes=int(self.terms_data["duration_minutes"])
        )
        self.policy_data: dict[str, Any] = intake["policy"]
        self.hold_ttl_seconds: int = intake["hold_ttl_seconds"]
        self.requested_at: datetime = intake["requested_at"]
        self.resource_ids: list[str] = []
        self.hold_expires_at: datetime | None = None
        self.paid: dict[str, Any] | None = None
        self.payment_id: str | None = None
        self.changes = 0
        self.pending_change: dict[str, Any] | None = None
        self.last_change: dict[str, Any] | None = None
        self.last_change_refusal: dict[str, Any] | None = None
        self.arrived_at: datetime | None = None
        self.link_version = 0
        refusal: dict[str, Any] | None = intake["refusal"]
        self.refusal_data = refusal
        self.waitlist: dict[str, Any] | None = intake["waitlist"]
        self.confirm_on_placing = bool(intake.get("confirm_on_placing"))
        self.status = BookingStatus.REJECTED if refusal else BookingStatus.REQUESTED
        self.status_reason: str | None = refusal["reason"] if refusal else None

    # --- reading ---------------------------------------------------------------------

    @property
    def contact(self) -> ContactDetails:
        return ContactDetails.from_data(self.contact_data)

    @property
    def offered_starts_only(self) -> bool:
        """A customer books only a start the slot list offers; the front desk (booking
        in person or on the phone) may book any start the hours allow."""
        return self.channel not in FRONT_DESK_CHANNELS

    @staticmethod
    def move_offered_only(change: dict[str, Any]) -> bool:
        """A customer moves only to an offered start; staff may move anywhere."""
        return bool(change.get("by") == Actor.CUSTOMER.value)

    @property
    def terms(self) -> ServiceTerms:
        return ServiceTerms(**self.terms_data)

    @property
    def policy(self) -> Policy:
        return Policy.from_data(self.policy_data)

    @property
    def amount_paid(self) -> Money | None:
        return Money.from_data(self.paid)

    @property
    def refusal(self) -> Refusal | None:
        return None if self.refusal_data is None else Refusal.from_data(self.refusal_data)

    @property
    def settled(self) -> bool:
        return self.status not in PENDING

    @property
    def payment_status(self) -> str:
        """not_required, pending, authorized, failed, or not_paid (ended unpaid)."""
        if self.policy.payment is PaymentRequirement.NONE:
            return "not_required"
        if self.paid is not None:
            return "authorized"
        if self.status_reason == "payment_failed":
            return "failed"
        return "pending" if self.status in PENDING else "not_paid"

    @property
    def offer_until(self) -> datetime | None:
        """A waitlist offer's deadline to claim it (None: not an offer)."""
        if self.waitlist is None:
            return None
        return self.requested_at + timedelta(seconds=int(self.waitlist["offer_seconds"]))

    def free_cancellation_until(self) -> datetime:
        return self.policy.free_cancellation_until(self.slot_start)

    # --- the saga: answers from availability and payments -------------------------

    def hold_placed(
        self,
        slot_start: datetime,
        slot_end: datetime,
        resource_ids: list[str],
        expires_at: datetime,
    ) -> None:
        if self.status is not BookingStatus.REQUESTED:
            return  # late or repeated: a timed-out saga already asked for the release
        self._held(slot_start, slot_end, resource_ids, expires_at)
        if self.waitlist is not None:
            self._offer()  # the customer claims it (or not) before anything is asked
            return
        if not self.confirm_on_placing:  # else confirming already: HoldConfirmed follows
            self._go_ahead()

    def _go_ahead(self) -> None:
        """A held slot: ask for the deposit, or for the confirmation when none is due."""
        due = self.policy.amount_due()
        if due is None:
            self._ask_confirmation()
        else:
            self._ask_deposit(due.to_data(), self.policy.payment.value)

    def hold_refused(self, refusal: Refusal) -> None:
        if self.status is BookingStatus.REQUESTED:
            self._reject(refusal.to_data())

    def payment_authorized(self, payment_id: str, amount: Money) -> None:
        if self.status is not BookingStatus.AWAITING_PAYMENT:
            return
        self._paid(payment_id, amount.to_data())
        self._ask_confirmation()

    def payment_failed(self, reason: str, detail: str) -> None:
        if self.status is not BookingStatus.AWAITING_PAYMENT:
            return
        self._reject(Refusal("payment_failed", f"{reason}: {detail}".strip(": ")).to_data())
        self._ask_release("payment_failed")

    def hold_confirmed(
        self, slot_start: datetime, slot_end: datetime, resources: list[str]
    ) -> None:
        if self.status is BookingStatus.CONFIRMING:
            self._confirm(slot_start, slot_end, resources)

    def hold_expired(self) -> None:
        if self.status in PENDING:
            self._expire(HOLD_RAN_OUT)

    def claim(self, now: datetime) -> None:
        """The waitlisted customer takes the offered slot: the saga goes on as for any
        held booking (waitlist offers are for services with nothing to pay up front)."""
        if self.status is not BookingStatus.OFFERED:
            raise InvalidTransition(f"a {self.status.value} booking cannot be claimed")
        assert self.offer_until is not None
        if now >= self.offer_until:
            raise InvalidTransition("the offer ran out; the slot went to the next in line")
        if self.policy.amount_due() is not None:
            raise InvalidTransition("this service asks for a payment up front; book it instead")
        self._claim(now)
        self._go_ahead()

    def decline_offer(self) -> bool:
        """The customer left the waitlist while offered: the hold is given back."""
        if self.waitlist is None or self.status not in (
            BookingStatus.REQUESTED,
            BookingStatus.OFFERED,
        ):
            return False
        self._expire(OFFER_DECLINED)
        self._ask_release("offer_declined")
        return True

    def time_out(self, now: datetime, answer_within: timedelta, pay_within: timedelta) -> bool:
        """The saga's own deadline — the hold's TTL is the last line, not the first."""
        waited = now - self.requested_at
        if self.status is BookingStatus.OFFERED:
            assert self.offer_until is not None
            if now < self.offer_until:
                return False
            self._expire(OFFER_NOT_CLAIMED)
            self._ask_release("offer_not_claimed")
            return True
        if self.status is BookingStatus.REQUESTED and waited >= answer_within:
            reason = "availability did not answer in time"
        elif self.status is BookingStatus.AWAITING_PAYMENT and waited >= pay_within:
            reason = "the payment was not authorised in time"
        else:
            return False
        self._expire(reason)
        self._ask_release("booking_timed_out")
        return True

    # --- changes ---------------------------------------------------------------------

    def cancel(
        self, by: Actor, now: datetime, reason: str | None, request_id: str | None = None
    ) -> None:
        """Cancel under the policy; ``request_id``: the cancel request this answers."""
        if self.status is not BookingStatus.CONFIRMED:
            raise InvalidTransition(f"a {self.status.value} booking cannot be cancelled")
        if by is Actor.CUSTOMER and now >= self.slot_start:
            raise InvalidTransition("the appointment has started; ask the front desk")
        decision = self.policy.cancellation(self.slot_start, now, self.amount_paid)
        self._cancel(
            by.value,
            decision.within_free_window,
            decision.fee.to_data() if decision.fee else None,
            decision.refund.to_data() if decision.refund else None,
            reason,
            request_id,
        )
        self._ask_allocation_cancel(reason or "cancelled")

    def ask_reschedule(
        self,
        by: Actor,
        new_start: datetime,
        now: datetime,
        preferred_staff_id: str | None,
        request_id: str | None,
    ) -> None:
        if self.status is not BookingStatus.CONFIRMED:
            raise InvalidTransition(f"a {self.status.value} booking cannot be moved")
        if self.pending_change is not None:
            raise InvalidTransition("a change of this booking is already under way")
        if by is Actor.CUSTOMER and now >= self.slot_start:
            raise InvalidTransition("the appointment has started; ask the front desk")
        if new_start == self.slot_start and preferred_staff_id is None:
            raise InvalidTransition("the booking is already at that time")
        number = self.changes + 1
        fee = self.policy.change_fee_for(number)
        end = new_start + timedelta(minutes=self.terms.duration_minutes)
        self._ask_reschedule(
            {
                "by": by.value,
                "start": new_start.isoformat(),
                "end": end.isoformat(),
                "preferred_staff_id": preferred_staff_id,
                "request_id": request_id,
                "change_number": number,
                "fee": fee.to_data() if fee else None,
            }
        )

    def move_answer(self, changes_before: int) -> MoveAnswer:
        """How a move asked when the booking had ``changes_before`` changes stands: still
        with availability, made (one change more), or refused."""
        if self.pending_change is not None:
            return MoveAnswer.UNDER_WAY
        return MoveAnswer.MOVED if self.changes > changes_before else MoveAnswer.REFUSED

    def move_reply(self, changes_before: int) -> MoveReply:
        """What the asker of that move is told: its answer, with the refusal if refused."""
        return MoveReply(self.move_answer(changes_before), self.last_change_refusal)

    def hold_rescheduled(
        self, slot_start: datetime, slot_end: datetime, resource_ids: list[str]
    ) -> None:
        if self.pending_change is not None:
            self._reschedule(slot_start, slot_end, resource_ids, self.slot_start, self.slot_end)

    def reschedule_refused(self, refusal: Refusal) -> None:
        """The move was refused; the slot the booking already has is no alternative."""
        if self.pending_change is not None:
            own = (self.slot_start, self.slot_end)
            others = tuple(a for a in refusal.alternatives if a != own)
            data = replace(refusal, alternatives=others).to_data()
            data["request_id"] = self.pending_change.get("request_id")
            self._refuse_change(data)

    def mark_arrived(self, now: datetime) -> None:
        """The front desk saw the customer come in; a second click changes nothing."""
        if self.status is not BookingStatus.CONFIRMED:
            raise InvalidTransition(f"a {self.status.value} booking cannot be marked arrived")
        if self.arrived_at is None:
            self._arrive(now)

    def complete(self, now: datetime) -> None:
        self._must_have_started(now, "completed")
        self._complete()

    def mark_no_show(self, now: datetime) -> None:
        self._must_have_started(now, "a no-show")
        fee = self.policy.no_show_fee
        self._no_show(fee.to_data() if fee else None)

    def _must_have_started(self, now: datetime, what: str) -> None:
        if self.status is not BookingStatus.CONFIRMED:
            raise InvalidTransition(f"a {self.status.value} booking cannot be marked {what}")
        if now < self.slot_start:
            raise InvalidTransition(f"the appointment has not started; it cannot be {what} yet")

    # --- events ----------------------------------------------------------------------

    class Held(Aggregate.Event):
        """A hold took the slot; it expires unless confirmed."""

        slot_start: datetime
        slot_end: datetime
        resource_ids: list[str]
        expires_at: datetime

    @event(Held)
    def _held(
        self,
        slot_start: datetime,
        slot_end: datetime,
        resource_ids: list[str],
        expires_at: datetime,
    ) -> None:
        self._take(slot_start, slot_end, resource_ids)
        self.hold_expires_at = expires_at
        confirming = self.confirm_on_placing
        self.status = BookingStatus.CONFIRMING if confirming else BookingStatus.AWAITING_PAYMENT

    def _take(self, slot_start: datetime, slot_end: datetime, resource_ids: list[str]) -> None:
        """The slot and resources a hold, its confirmation or a move gives the booking."""
        self.slot_start, self.slot_end = slot_start, slot_end
        self.resource_ids = list(resource_ids)

    class DepositAsked(Aggregate.Event):
        """Payment is due before the hold is confirmed."""

        amount: dict[str, Any]
        kind: str

    @event(DepositAsked)
    def _ask_deposit(self, amount: dict[str, Any], kind: str) -> None:
        self.status = BookingStatus.AWAITING_PAYMENT

    class ConfirmationAsked(Aggregate.Event):
        """Availability is asked to confirm the hold."""

    @event(ConfirmationAsked)
    def _ask_confirmation(self) -> None:
        self.status = BookingStatus.CONFIRMING

    class Offered(Aggregate.Event):
        """A waitlist offer holds the slot; the customer is sent a claim link."""

    @event(Offered)
    def _offer(self) -> None:
        self.status = BookingStatus.OFFERED

    class Claimed(Aggregate.Event):
        """The waitlisted customer claimed the offered slot."""

        at: datetime

    @event(Claimed)
    def _claim(self, at: datetime) -> None:
        self.status = BookingStatus.AWAITING_PAYMENT

    class Paid(Aggregate.Event):
        """The payment was authorised."""

        payment_id: str
        amount: dict[str, Any]

    @event(Paid)
    def _paid(self, payment_id: str, amount: dict[str, Any]) -> None:
        self.payment_id = payment_id
        self.paid = amount

    class Confirmed(Aggregate.Event):
        """The hold became an allocation: the booking stands."""

        slot_start: datetime
        slot_end: datetime
        resource_ids: list[str]

    @event(Confirmed)
    def _confirm(self, slot_start: datetime, slot_end: datetime, resource_ids: list[str]) -> None:
        self._take(slot_start, slot_end, resource_ids)
        self.hold_expires_at = None
        self.status = BookingStatus.CONFIRMED

    class Rejected(Aggregate.Event):
        """The booking was refused (the slot, the payment, the request)."""

        refusal: dict[str, Any]

    @event(Rejected)
    def _reject(self, refusal: dict[str, Any]) -> None:
        self.refusal_data = refusal
        self.status = BookingStatus.REJECTED
        self.status_reason = refusal["reason"]

    class ReleaseAsked(Aggregate.Event):
        """Availability is asked to release the hold."""

        reason: str

    @event(ReleaseAsked)
    def _ask_release(self, reason: str) -> None:
        pass

    class Expired(Aggregate.Event):
        """The saga ran out of time."""

        reason: str

    @event(Expired)
    def _expire(self, reason: str) -> None:
        self.status = BookingStatus.EXPIRED
        self.status_reason = reason

    class Cancelled(Aggregate.Event):
        """The booking was cancelled (``request_id`` absent before 2026-12)."""

        by: str
        within_free_window: bool
        fee: dict[str, Any] | None
        refund: dict[str, Any] | None
        reason: str | None
        request_id: str | None

    @event(Cancelled)
    def _cancel(
        self,
        by: str,
        within_free_window: bool,
        fee: dict[str, Any] | None,
        refund: dict[str, Any] | None,
        reason: str | None,
        request_id: str | None = None,
    ) -> None:
        self.status = BookingStatus.CANCELLED
        self.status_reason = reason
        self.pending_change = None

    class AllocationCancelAsked(Aggregate.Event):
        """Availability is asked to free the allocation."""

        reason: str

    @event(AllocationCancelAsked)
    def _ask_allocation_cancel(self, reason: str) -> None:
        pass

    class RescheduleAsked(Aggregate.Event):
        """Availability is asked to move the allocation."""

        change: dict[str, Any]

    @event(RescheduleAsked)
    def _ask_reschedule(self, change: dict[str, Any]) -> None:
        self.pending_change = change

    class Rescheduled(Aggregate.Event):
        """The booking moved to another slot."""

        slot_start: datetime
        slot_end: datetime
        resource_ids: list[str]
        previous_start: datetime
        previous_end: datetime

    @event(Rescheduled)
    def _reschedule(
        self,
        slot_start: datetime,
        slot_end: datetime,
        resource_ids: list[str],
        previous_start: datetime,
        previous_end: datetime,
    ) -> None:
        assert self.pending_change is not None
        self._take(slot_start, slot_end, resource_ids)
        self.changes = int(self.pending_change["change_number"])
        self.last_change = self.pending_change
        self.last_change_refusal = None  # the card shows the change, not an old refusal
        self.pending_change = None

    class ChangeRefused(Aggregate.Event):
        """A reschedule could not be carried out."""

        refusal: dict[str, Any]

    @event(ChangeRefused)
    def _refuse_change(self, refusal: dict[str, Any]) -> None:
        self.last_change_refusal = refusal
        self.pending_change = None

    class LinksRevoked(Aggregate.Event):
        """Every manage link sent so far stops working (a new one is sent)."""

    @event(LinksRevoked)
    def revoke_links(self) -> None:
        """A link may have reached someone else (a forwarded e-mail, a lost phone)."""
        self.link_version += 1

    class Arrived(Aggregate.Event):
        """The customer arrived."""

        at: datetime

    @event(Arrived)
    def _arrive(self, at: datetime) -> None:
        self.arrived_at = at

    class Completed(Aggregate.Event):
        """The appointment took place."""

    @event(Completed)
    def _complete(self) -> None:
        self.status = BookingStatus.COMPLETED

    class NoShow(Aggregate.Event):
        """The customer did not come."""

        fee: dict[str, Any] | None

    @event(NoShow)
    def _no_show(self, fee: dict[str, Any] | None) -> None:
        self.status = BookingStatus.NO_SHOW
