"""What a booking request carries, and how booking took it in: a new booking's makings.

``BookingRequest`` is what the channel sent (from the web form, the phone line or the
front desk: ``booking.requests.v1``); ``Intake`` is what booking decided on receiving
it (reference, customer, service terms and policy, or a refusal at once). Together
they are the fields of the stored ``Booking.Requested`` event, which keeps its flat
shape: ``Booking.take(request, intake)`` makes a booking from them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any
from uuid import UUID


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
    as data), policy (as data) and hold time, when, and a refusal if refused at once."""

    reference: str
    customer_id: UUID
    terms: dict[str, Any]
    policy: dict[str, Any]
    hold_ttl_seconds: int
    requested_at: datetime
    refusal: dict[str, Any] | None = None


def requested_fields(request: BookingRequest, intake: Intake) -> dict[str, Any]:
    """The fields of the ``Requested`` event (no copies: the values as given)."""
    given = {f.name: getattr(request, f.name) for f in fields(request)}
    return given | {f.name: getattr(intake, f.name) for f in fields(intake)}
