"""Where a request's contact may come in clear on ``booking.requests.v1``: locally yes,
in production no (refused ``not_sealed``, answered like every refusal); a sealed field
that did not open is refused ``unreadable`` wherever booking runs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from slotline.booking.messaging import RequestRefused, check_sealed
from slotline.booking.settings import BookingSettings
from slotline.events import request_sealing
from slotline.events.contract.booking import BookingRequestRefusal
from slotline.events.contract.booking_requests import BookingRequested
from slotline.events.contract.registry import parse_message
from slotline.events.topics import BOOKING_REQUESTS

pytestmark = pytest.mark.unit

CONTACT = {"name": "Ana", "phone": "+302101234567"}


def arrived(contact: Any, **more: Any) -> BookingRequested:
    body = {
        "event_type": "BookingRequested",
        "schema_version": 2,
        "tenant_id": "clinic",
        "aggregate_id": "r-1",
        "request_id": "r-1",
        "channel": "kiosk",
        "contact": contact,
        "service_id": "s",
        "location_id": "l",
        "slot_start": "2026-12-07T10:00:00+00:00",
        **more,
    }
    message = parse_message(BOOKING_REQUESTS, json.dumps(body).encode())
    assert isinstance(message, BookingRequested)
    return message


def sealed(field: str, value: Any, tenant: str = "clinic") -> str:
    key = request_sealing.request_public_key(tenant)
    return request_sealing.seal_for_booking(key, tenant, "BookingRequested", field, value)


def refusal(message: BookingRequested, clear_requests: bool) -> RequestRefused:
    with pytest.raises(RequestRefused) as refused:
        check_sealed(message, clear_requests)
    return refused.value


def test_in_clear_is_accepted_where_clear_requests_are() -> None:
    check_sealed(arrived(CONTACT, notes="hi"), clear_requests=True)


def test_in_clear_is_refused_where_they_must_be_sealed_naming_the_fields() -> None:
    refused = refusal(arrived(CONTACT, notes="hi"), clear_requests=False)
    assert refused.reason is BookingRequestRefusal.NOT_SEALED
    assert "contact and notes must be sealed" in refused.detail
    assert "/v1/public/clinic/request-key" in refused.detail
    assert "Ana" not in refused.detail


def test_a_clear_note_beside_a_sealed_contact_is_still_refused() -> None:
    refused = refusal(arrived(sealed("contact", CONTACT), notes="hi"), clear_requests=False)
    assert refused.detail.startswith("notes must be sealed")


def test_sealed_fields_pass_where_they_must_be_sealed() -> None:
    check_sealed(
        arrived(sealed("contact", CONTACT), notes=sealed("notes", "hi")), clear_requests=False
    )


def test_a_field_that_did_not_open_is_unreadable_even_where_clear_is_accepted() -> None:
    message = arrived(sealed("contact", CONTACT, tenant="another"))
    refused = refusal(message, clear_requests=True)
    assert refused.reason is BookingRequestRefusal.UNREADABLE
    assert refused.detail.startswith("contact: ")


@pytest.mark.parametrize(
    ("environment", "setting", "accepted"),
    [
        ("local", None, True),
        ("production", None, False),
        ("prod", None, False),
        ("production", True, True),
        ("local", False, False),
    ],
)
def test_clear_requests_are_accepted_except_in_production_unless_said(
    environment: str, setting: bool | None, accepted: bool
) -> None:
    settings = BookingSettings(environment=environment, requests_in_clear=setting)
    assert settings.clear_requests_accepted is accepted
