"""What a booking request carries, and how booking took it in: a new booking's makings.

``BookingRequest`` is what the channel sent (from the web form, the phone line or the
front desk: ``booking.requests.v1``); ``Intake`` is what booking decided on receiving
it (reference, customer, service terms and policy, or a refusal at once). Together
they are the two parts of the stored ``Booking.Requested`` event:
``Booking.take(request, intake)`` makes a booking from them.

Some things only the front desk may say of a request (``front_desk_claim``): a channel
that passes on what anyone typed is refused when it says them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

FRONT_DESK_CHANNELS = frozenset({"staff", "phone"})
"""Channels only the front desk books by: at the desk, or taking a call."""

MARKETING_CONSENT_NOT_TAKEN = "marketing consent is not taken on an anonymous booking form"
"""Why a request without the front desk's word carries no marketing consent."""


@dataclass(frozen=True)
class FrontDeskClaim:
    """Something a request says that only the front desk may say: which field, and why
    the request may not."""

    field: str
    detail: str


def front_desk_claim(
    channel: str, source_call_id: str | None, marketing_consent: bool
) -> FrontDeskClaim | None:
    """The first thing only the front desk may say of a request, if this one says it:
    that it came from the desk or by phone, answers a missed call, or has marketing
    consent (given by a customer the desk knows, never by whoever typed a phone number
    into a booking page). None: anyone may make it."""
    if channel in FRONT_DESK_CHANNELS:
        return FrontDeskClaim("channel", f"only the front desk books with channel {channel!r}")
    if source_call_id is not None:
        return FrontDeskClaim("source_call_id", "only the front desk ties a booking to a call")
    if marketing_consent:
        return FrontDeskClaim("consents", MARKETING_CONSENT_NOT_TAKEN)
    return None


@dataclass(frozen=True)
class ServiceTerms:
    """What the booking is for, as the catalogue described it when it was requested."""

    service_id: str
    service_name: str
    duration_minutes: int
    price_tier: str
    location_id: str
    location_name: str
    time_zone: str
    address: str | None = None


@dataclass(frozen=True, kw_only=True)
class BookingRequest:
    """What a channel asked for (``fingerprint``: of the request, to spot a reused key)."""

    tenant_id: str
    request_id: str
    idempotency_key: str | None
    fingerprint: str
    channel: str
    contact: dict[str, Any]
    consents: dict[str, bool]
    slot_start: datetime
    preferred_staff_id: str | None = None
    preferred_resource_id: str | None = None
    notes: str | None = None
    source_call_id: str | None = None
    payment_token: str | None = None


@dataclass(frozen=True, kw_only=True)
class Intake:
    """How booking took a request in: its reference, customer, terms (``ServiceTerms``
    as data), policy (as data) and hold time, when, and a refusal if refused at once;
    ``waitlist`` (line_id, entry_id, offer_seconds) when it is a waitlist offer;
    ``confirm_on_placing`` when nothing is due before it stands (availability is asked to
    confirm the hold in the step that places it: two hops fewer)."""

    reference: str
    customer_id: UUID
    terms: dict[str, Any]
    policy: dict[str, Any]
    hold_ttl_seconds: int
    requested_at: datetime
    refusal: dict[str, Any] | None = None
    waitlist: dict[str, Any] | None = None
    confirm_on_placing: bool = False
