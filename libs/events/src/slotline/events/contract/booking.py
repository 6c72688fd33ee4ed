"""``booking.events.v1`` — the life of a booking, from request to visit.

Published by the booking service; read by channel adapters (the outcome of their
request, correlated by ``request_id``), payments (deposits, refunds, fees), notifier
(confirmations, reminders, notices), call-intake (closing callback tasks, the caller's
timeline) and analysts. Aggregate: the booking, whose id stays across reschedules.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import AwareDatetime, ConfigDict, Field

from slotline.events.contract.common import (
    Channel,
    Consents,
    Contact,
    Id,
    Money,
    NoCardNumber,
    SlotOffer,
    StatedNoCardNumber,
    TimeSlot,
)
from slotline.events.envelope import Message
from slotline.events.topics import BOOKING_EVENTS


class BookingEvent(Message):
    TOPIC: ClassVar[str] = BOOKING_EVENTS
    KEY: ClassVar[str] = "{booking_id}"
    ABSTRACT: ClassVar[bool] = True

    booking_id: Id = Field(description="The booking; stable across reschedules.")
    request_id: Id | None = Field(
        default=None, description="The request that created or changed it, if any."
    )


class Actor(StrEnum):
    """Who made a change."""

    CUSTOMER = "customer"
    STAFF = "staff"
    SYSTEM = "system"


class BookingRejection(StrEnum):
    """Values of ``BookingRejected.reason`` (a string, so new reasons stay compatible)."""

    SLOT_TAKEN = "slot_taken"
    OUTSIDE_HOURS = "outside_hours"
    TOO_SHORT_NOTICE = "too_short_notice"
    BEYOND_HORIZON = "beyond_horizon"
    DAILY_LIMIT_REACHED = "daily_limit_reached"
    CAPACITY_FULL = "capacity_full"
    UNKNOWN_SERVICE = "unknown_service"
    PAYMENT_FAILED = "payment_failed"
    INVALID_REQUEST = "invalid_request"


_REFERENCE = "Short code the customer quotes, e.g. SLT-7K4Q."
_ZONE = "The location's IANA time zone, for showing local times."


class BookingHeld(BookingEvent):
    """The slot is held for the request; payment or confirmation follows."""

    PERSONAL: ClassVar[tuple[str, ...]] = ("contact",)
    SCHEMA_VERSION: ClassVar[int] = 2

    reference: str = Field(pattern=r"^SLT-[0-9A-Z]{4,8}$", description=_REFERENCE)
    channel: Channel = Field(description="Where the request came from.")
    customer_id: Id = Field(description="The customer record (see CustomerRegistered).")
    contact: Contact = Field(description="How to reach the customer.")
    consents: Consents = Field(description="What may be sent to them.")
    service_id: Id = Field(description="The service booked.")
    location_id: Id = Field(description="Where.")
    time_zone: str = Field(description=_ZONE)
    slot: TimeSlot = Field(description="The service time, UTC.")
    resource_ids: list[Id] = Field(description="Every resource held.")
    hold_expires_at: AwareDatetime = Field(description="The booking expires if not done by then.")


class DepositRequested(BookingEvent):
    """The service's policy asks for money before the booking is confirmed (for payments)."""

    amount: Money = Field(description="What to authorise now.")
    kind: str = Field(pattern=r"^(deposit|prepayment)$", description="deposit or prepayment.")
    price_tier: str = Field(description="The service's price tier (payments' policy key).")
    payment_token: Annotated[str, NoCardNumber, StatedNoCardNumber] | None = Field(
        default=None, description="Gateway token, never a card."
    )


class BookingConfirmed(BookingEvent):
    """The booking stands: slot allocated and, if required, paid."""

    PERSONAL: ClassVar[tuple[str, ...]] = ("contact", "manage_url")
    SCHEMA_VERSION: ClassVar[int] = 2

    reference: str = Field(description=_REFERENCE)
    customer_id: Id = Field(description="The customer record.")
    contact: Contact = Field(description="How to reach the customer.")
    consents: Consents = Field(description="What may be sent to them.")
    service_id: Id = Field(description="The service booked.")
    service_name: str = Field(description="As shown to the customer.")
    location_id: Id = Field(description="Where.")
    time_zone: str = Field(description=_ZONE)
    slot: TimeSlot = Field(description="The service time, UTC.")
    resource_ids: list[Id] = Field(description="Every resource allocated.")
    price: Money | None = Field(default=None, description="Full price, if the service has one.")
    paid: Money | None = Field(default=None, description="Authorised or paid so far.")
    free_cancellation_until: AwareDatetime | None = Field(
        default=None, description="Cancelling before this costs nothing."
    )
    manage_url: str | None = Field(default=None, description="Link to view, move or cancel.")
    channel: Channel | None = Field(default=None, description="Where the request came from.")
    source_call_id: Id | None = Field(
        default=None, description="The missed call the booking answers, credited to it."
    )
    location_name: str | None = Field(default=None, max_length=200, description="For messages.")
    address: str | None = Field(default=None, max_length=500, description="For messages.")


class BookingRejected(BookingEvent):
    """The request failed: slot taken, payment failed, or invalid; with alternatives."""

    reason: str = Field(max_length=100, description="A BookingRejection value.")
    detail: str = Field(default="", max_length=500, description="Human explanation.")
    alternatives: list[SlotOffer] = Field(
        default_factory=list, description="Nearest free slots, closest first."
    )
    channel: Channel | None = Field(
        default=None,
        description="Where the request came from (a refused request was never held, so "
        "this is the only outcome that says it).",
    )


class BookingExpired(BookingEvent):
    """The hold ran out before payment or confirmation; whatever was held is released."""


class BookingCancelled(BookingEvent):
    """The booking was cancelled, with the policy's fee and refund decision for payments."""

    by: Actor = Field(description="Who cancelled.")
    within_free_window: bool = Field(description="Cancelled before the free-cancellation limit.")
    fee: Money | None = Field(default=None, description="Late-cancellation fee to keep or charge.")
    refund: Money | None = Field(default=None, description="What to give back.")
    reason: str | None = Field(default=None, max_length=500, description="As given.")


class BookingRescheduled(BookingEvent):
    """The booking moved; its id and reference stay."""

    by: Actor = Field(description="Who moved it.")
    previous_slot: TimeSlot = Field(description="The slot given up.")
    slot: TimeSlot = Field(description="The new service time.")
    resource_ids: list[Id] = Field(description="Every resource now allocated.")
    change_number: int = Field(ge=1, description="1 for the first move, and so on.")
    change_fee: Money | None = Field(
        default=None, description="Fee once the free changes are used up."
    )


class BookingChangeRefused(BookingEvent):
    """A reschedule could not be made; the booking stays as it was."""

    reason: str = Field(max_length=100, description="A BookingRejection value.")
    detail: str = Field(default="", max_length=500, description="Human explanation.")
    alternatives: list[SlotOffer] = Field(
        default_factory=list, description="Nearest free slots, closest first."
    )


class BookingRequestRefusal(StrEnum):
    """Values of ``BookingRequestRefused.reason``."""

    UNKNOWN_BOOKING = "unknown_booking"
    NOT_ALLOWED = "not_allowed"
    """The booking's state does not allow it (cancel a cancelled booking, move a past one)."""
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    """The request id or idempotency key was used before for a different request."""
    INVALID_CONTACT = "invalid_contact"
    NOT_AUTHORIZED = "not_authorized"
    """A change carried no valid proof that its sender may act on that booking."""
    UNREADABLE = "unreadable"
    """A field sealed for booking did not open (another tenant's key, altered) or opened
    to an invalid value; the detail names the field, never a value."""
    NOT_SEALED = "not_sealed"
    """In production a request's contact and notes must come sealed to the tenant's
    request key (``GET /v1/public/{tenant}/request-key``), not in clear."""


class BookingRequestRefused(BookingEvent):
    """A request on ``booking.requests.v1`` that changed nothing, and why: every request
    is answered, the ones carried out by the booking's own events, the rest by this.
    ``request_id`` is the refused request's; ``booking_id`` the booking it named (or,
    for a new request, the one it would have made)."""

    request_type: str = Field(max_length=100, description="The refused request's event_type.")
    reason: str = Field(max_length=100, description="A BookingRequestRefusal value.")
    detail: str = Field(default="", max_length=500, description="Human explanation.")


class BookingRequestRepeated(BookingEvent):
    """A request carried out before, sent again (same request id or idempotency key):
    nothing new happens. ``booking_id`` is the booking it made, whose own outcome was —
    or, while it is still in progress, will be — published as usual; ``status`` is
    where it stands now."""

    request_type: str = Field(max_length=100, description="The repeated request's event_type.")
    status: str = Field(
        max_length=50, description="The booking's status now: held, confirmed, rejected …"
    )


class BookingCompleted(BookingEvent):
    """The customer came and the service was given."""


class BookingNoShow(BookingEvent):
    """The customer did not come; the policy's no-show fee applies."""

    fee: Money | None = Field(default=None, description="No-show fee to keep or charge.")


class CustomerRegistered(Message):
    """A customer record was created, keyed by normalised phone / e-mail per tenant."""

    PERSONAL: ClassVar[tuple[str, ...]] = ("contact",)
    SCHEMA_VERSION: ClassVar[int] = 2

    KEY: ClassVar[str] = "{customer_id}"

    TOPIC: ClassVar[str] = BOOKING_EVENTS

    customer_id: Id = Field(description="The customer record; also the aggregate id.")
    contact: Contact = Field(description="How to reach the customer.")


Pseudonym = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]


class CustomerErased(Message):
    """An owner erased a customer (GDPR Art. 17): booking destroyed the key their
    personal data was sealed under, so it is unreadable in every stored copy. Every
    service drops or blanks what it keeps of them; bookings, payments and figures stay,
    with placeholders where the person was."""

    KEY: ClassVar[str] = "{customer_id}"

    TOPIC: ClassVar[str] = BOOKING_EVENTS

    customer_id: Id = Field(description="The erased customer record.")
    phone_pseudonym: Pseudonym | None = Field(
        default=None,
        description="Their phone number keyed with the tenant's key (as ConsentChanged's "
        "key), so a service keeping records by number finds theirs without reading it.",
    )
    email_pseudonym: Pseudonym | None = Field(
        default=None, description="Their e-mail address keyed likewise."
    )
    erased_at: AwareDatetime = Field(description="When the owner erased them.")


class PaymentRequirement(StrEnum):
    """What a policy tier asks for before a booking is confirmed."""

    NONE = "none"
    DEPOSIT = "deposit"
    PREPAYMENT = "prepayment"


class PolicyDefined(Message):
    """A manager set the booking policy of a price tier (aggregate: ``<tenant>:<tier>``).

    The booking service owns and applies it (deposits, free-cancellation window, fees,
    free changes); payments reads it for prices and tax lines on receipts and quotes.
    """

    KEY: ClassVar[str] = "{tenant_id}:{price_tier}"

    TOPIC: ClassVar[str] = BOOKING_EVENTS

    price_tier: str = Field(min_length=1, max_length=64, description="The tier's name.")
    price: Money | None = Field(default=None, description="Full price of a service in the tier.")
    tax_rate_basis_points: int = Field(
        default=0, ge=0, le=10000, description="Tax rate, 1/100 of a percent (2400 = 24 %)."
    )
    taxes_included: bool = Field(default=True, description="The price already includes tax.")
    payment: PaymentRequirement = Field(description="none, deposit or prepayment.")
    deposit: Money | None = Field(default=None, description="Fixed deposit, if any.")
    deposit_percent: int | None = Field(
        default=None, ge=1, le=100, description="Deposit as a share of the price, if any."
    )
    free_cancellation_hours: int = Field(
        ge=0, le=24 * 30, description="Cancelling at least this long before costs nothing."
    )
    late_cancellation_fee: Money | None = Field(default=None, description="Fee inside the window.")
    no_show_fee: Money | None = Field(default=None, description="Fee when the customer is absent.")
    free_changes: int = Field(ge=0, le=100, description="Reschedules that cost nothing.")
    change_fee: Money | None = Field(default=None, description="Fee per change beyond those.")


class BookingHeldV1(BookingHeld):
    """The slot is held for the request; payment or confirmation follows.

    Version 1, read still: its personal fields travel in clear (version 2 seals them).
    """

    model_config = ConfigDict(title=BookingHeld.EVENT_TYPE)
    EVENT_TYPE: ClassVar[str] = BookingHeld.EVENT_TYPE
    SCHEMA_VERSION: ClassVar[int] = 1
    PERSONAL: ClassVar[tuple[str, ...]] = ()


class BookingConfirmedV1(BookingConfirmed):
    """The booking stands: slot allocated and, if required, paid.

    Version 1, read still: its personal fields travel in clear (version 2 seals them).
    """

    model_config = ConfigDict(title=BookingConfirmed.EVENT_TYPE)
    EVENT_TYPE: ClassVar[str] = BookingConfirmed.EVENT_TYPE
    SCHEMA_VERSION: ClassVar[int] = 1
    PERSONAL: ClassVar[tuple[str, ...]] = ()


class CustomerRegisteredV1(CustomerRegistered):
    """A customer record was created, keyed by normalised phone / e-mail per tenant.

    Version 1, read still: its personal fields travel in clear (version 2 seals them).
    """

    model_config = ConfigDict(title=CustomerRegistered.EVENT_TYPE)
    EVENT_TYPE: ClassVar[str] = CustomerRegistered.EVENT_TYPE
    SCHEMA_VERSION: ClassVar[int] = 1
    PERSONAL: ClassVar[tuple[str, ...]] = ()
