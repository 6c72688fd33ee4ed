"""How booking takes a request in: what it asks for (its fingerprint, to spot a reused
key), its contact read in the location's country, the claim of its idempotency key, the
service's terms as the booking keeps them, and a refusal given at once."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from slotline.booking.domain.booking import Refusal, ServiceTerms
from slotline.booking.domain.contact import ContactDetails
from slotline.booking.domain.policy import Policy
from slotline.booking.domain.reference import Claim
from slotline.booking.domain.request import BookingRequest
from slotline.booking.zones import country_of_zone
from slotline.events.contract.booking_requests import BookingRequested
from slotline.events.wire_sealing import pseudonym


def asked(request: BookingRequested, contact: ContactDetails) -> BookingRequest:
    """The request as the booking records it (times in UTC, the contact normalised)."""
    return BookingRequest(
        tenant_id=request.tenant_id,
        request_id=request.request_id,
        idempotency_key=request.idempotency_key,
        fingerprint=fingerprint(request),
        channel=request.channel.value,
        contact=contact.to_data(),
        consents=request.consents.model_dump(),
        slot_start=request.slot_start.astimezone(UTC),
        preferred_staff_id=request.preferred_staff_id,
        preferred_resource_id=request.preferred_resource_id,
        notes=request.notes,
        source_call_id=request.source_call_id,
        payment_token=request.payment_token,
    )


def fingerprint(request: BookingRequested) -> str:
    """What a request asks for, without its ids: a repeat must ask for the same."""
    asked = request.model_dump(
        mode="json",
        include={
            "contact",
            "service_id",
            "location_id",
            "slot_start",
            "preferred_staff_id",
            "preferred_resource_id",
            "notes",
            "source_call_id",
        },
    )
    asked["slot_start"] = request.slot_start.astimezone(UTC).isoformat()
    # Keyed with the tenant's key: the stored fingerprint of a contact and a note is
    # not a hash anyone could recompute from a guessed phone number.
    return pseudonym(request.tenant_id, json.dumps(asked, sort_keys=True))


def contact_of(request: BookingRequested, terms: ServiceTerms | None) -> ContactDetails:
    """The request's contact, normalised (a phone without a country code is read in the
    location's country)."""
    return ContactDetails.normalised(
        request.contact.name,
        request.contact.phone,
        request.contact.email,
        request.contact.language,
        default_region=country_of_zone(terms.time_zone) if terms else None,
    )


def key_claim(idempotency_key: str) -> str:
    return "idempotency:" + idempotency_key


def key_claim_id(tenant_id: str, idempotency_key: str) -> UUID:
    return Claim.create_id(tenant_id, key_claim(idempotency_key))


def terms_data(terms: ServiceTerms | None, request: BookingRequested) -> dict[str, Any]:
    if terms is None:  # refused below; keep what the request said
        terms = ServiceTerms(
            service_id=request.service_id,
            service_name="",
            duration_minutes=1,
            price_tier="standard",
            location_id=request.location_id,
            location_name="",
            time_zone="UTC",
        )
    return dict(terms.__dict__)


def refusal_of(
    request: BookingRequested, terms: ServiceTerms | None, policy: Policy
) -> dict[str, Any] | None:
    """A request that cannot even ask for a hold is answered at once."""
    if terms is None:
        detail = f"service {request.service_id} is not offered"
        return {"reason": "unknown_service", "detail": detail, "alternatives": []}
    if terms.location_id != request.location_id:
        detail = f"service {request.service_id} is not offered at location {request.location_id}"
        return {"reason": "unknown_service", "detail": detail, "alternatives": []}
    missing = policy.missing_payment(request.payment_token)
    if missing is not None:
        return {"reason": "invalid_request", "detail": missing, "alternatives": []}
    return None


def refusal_from(
    reason: str, detail: str, alternatives: list[tuple[datetime, datetime]]
) -> Refusal:
    return Refusal(reason=reason, detail=detail, alternatives=tuple(alternatives))
