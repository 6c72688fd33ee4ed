"""Issue 17 item 9 on ``booking.requests.v1``: a channel adapter seals a request's contact
and notes to the tenant's public request key (HPKE); only Slotline opens them, only for
that tenant and field, and one that does not open is noted (the request is answered),
never a parse error."""

from __future__ import annotations

import json
from typing import Any

import pytest

from slotline.events import request_sealing
from slotline.events.contract.booking_requests import (
    BookingRequested,
    BookingRequestedV1,
)
from slotline.events.contract.registry import parse_message
from slotline.events.topics import BOOKING_REQUESTS

pytestmark = pytest.mark.unit

TENANT = "clinic-a"
CONTACT = {"name": "Ana Sealed", "phone": "+302101234567"}
NOTE = "back pain since Tuesday"


def request(**fields: Any) -> dict[str, Any]:
    return {
        "event_type": "BookingRequested",
        "schema_version": 2,
        "tenant_id": TENANT,
        "aggregate_id": "r-1",
        "request_id": "r-1",
        "channel": "partner",
        "service_id": "s",
        "location_id": "l",
        "slot_start": "2026-12-07T10:00:00+00:00",
        **fields,
    }


def sealed(value: Any, *, tenant: str = TENANT, field: str = "contact") -> str:
    """Sealed as an adapter would: with the tenant's public key only."""
    key = request_sealing.request_public_key(tenant)
    return request_sealing.seal_for_booking(key, tenant, "BookingRequested", field, value)


def parsed(body: dict[str, Any]) -> BookingRequested:
    message = parse_message(BOOKING_REQUESTS, json.dumps(body).encode())
    assert isinstance(message, BookingRequested)
    return message


def test_what_an_adapter_seals_opens_for_booking() -> None:
    message = parsed(request(contact=sealed(CONTACT), notes=sealed(NOTE, field="notes")))
    assert message.contact.name == "Ana Sealed"
    assert message.contact.phone == "+302101234567"
    assert message.notes == NOTE
    assert message.came_sealed("contact")
    assert message.came_sealed("notes")
    assert message.unreadable == ()


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (sealed(CONTACT, tenant="clinic-b"), "does not open"),
        (sealed(CONTACT, field="notes"), "does not open"),
        (sealed({"name": "Ana"}), "invalid value"),
        ("hpke:v1:" + "A" * 90, "does not open"),
    ],
    ids=["another tenant's key", "sealed as another field", "no phone or e-mail", "junk"],
)
def test_a_contact_that_does_not_open_is_noted_not_refused_as_invalid(value: str, why: str) -> None:
    message = parsed(request(contact=value))
    assert len(message.unreadable) == 1
    assert message.unreadable[0].startswith("contact: ")
    assert why in message.unreadable[0]
    assert "Ana" not in message.unreadable[0]
    assert message.contact.name == "[unreadable]", "a placeholder, never a half-read value"


def test_an_altered_seal_does_not_open() -> None:
    text = sealed(CONTACT)
    flipped = text[:-6] + ("A" if text[-6] != "A" else "B") + text[-5:]
    assert parsed(request(contact=flipped)).unreadable


def test_a_request_slotline_publishes_carries_no_contact_in_clear() -> None:
    message = BookingRequested.model_validate(request(contact=CONTACT, notes=NOTE))
    raw = message.to_json().decode()
    for secret in ("Ana Sealed", "2101234567", "back pain"):
        assert secret not in raw
    again = parsed(json.loads(raw))
    assert again.contact.name == "Ana Sealed"
    assert again.notes == NOTE


def test_version_1_in_clear_is_still_read_and_known_as_clear() -> None:
    body = request(contact=CONTACT, notes=NOTE, schema_version=1)
    message = parse_message(BOOKING_REQUESTS, json.dumps(body).encode())
    assert isinstance(message, BookingRequestedV1)
    assert message.contact.name == "Ana Sealed"
    assert not message.came_sealed("contact")
    assert json.loads(message.to_json())["contact"]["name"] == "Ana Sealed"


def test_a_version_2_contact_may_come_in_clear_and_is_known_as_clear() -> None:
    message = parsed(request(contact=CONTACT))
    assert message.contact.name == "Ana Sealed"
    assert not message.came_sealed("contact")


def test_each_tenant_has_its_own_public_key() -> None:
    first = request_sealing.request_public_key(TENANT)
    assert first == request_sealing.request_public_key(TENANT)
    assert first != request_sealing.request_public_key("clinic-b")
    assert len(request_sealing._public_key(first).public_bytes_raw()) == 32
