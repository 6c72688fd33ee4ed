"""Issue 17 item 9 on ``booking.requests.v1``: a channel adapter that holds no platform
key seals a request's contact and notes to the tenant's public request key, fetched
from booking; the topic then shows no one's name, phone or note, booking reads them,
and a value sealed for another tenant is answered (refused ``unreadable``), not lost."""

from __future__ import annotations

import json
from secrets import randbelow
from typing import Any
from uuid import UUID, uuid4

import anyio
import pytest

from slotline.availability.demo import Clinic
from slotline.events import request_sealing
from slotline.events.contract.booking import BookingConfirmed, BookingRequestRefused
from slotline.events.testing.reading import read_topic
from slotline.events.topics import BOOKING_REQUESTS

from .conftest import Stack, future_start

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def adapters_request(
    clinic: Clinic, request_id: str, key: str, contact: dict[str, Any], notes: str
) -> dict[str, Any]:
    """What an adapter in any language writes: plain JSON, the personal fields sealed."""
    tenant = clinic.tenant_id

    def sealed(field: str, value: Any) -> str:
        return request_sealing.seal_for_booking(key, tenant, "BookingRequested", field, value)

    return {
        "event_id": str(uuid4()),
        "event_type": "BookingRequested",
        "schema_version": 2,
        "tenant_id": tenant,
        "aggregate_id": request_id,
        "request_id": request_id,
        "channel": "partner",
        "contact": sealed("contact", contact),
        "notes": sealed("notes", notes),
        "service_id": str(clinic.service_id),
        "location_id": str(clinic.location_id),
        "slot_start": future_start(hour=15).isoformat(),
    }


async def publish(stack: Stack, body: dict[str, Any]) -> None:
    broker = stack.booking.runtime.broker
    assert broker is not None
    await broker.publish(
        json.dumps(body).encode(), topic=BOOKING_REQUESTS, key=body["aggregate_id"].encode()
    )


async def public_key(stack: Stack, tenant: str) -> str:
    answer = await stack.booking.client.get(f"/v1/public/{tenant}/request-key")
    assert answer.status_code == 200, answer.text
    published = answer.json()
    assert published["fields"] == ["contact", "notes"]
    assert "X25519" in published["suite"]
    assert "AES-256-GCM" in published["suite"]
    return str(published["public_key"])


async def test_a_sealed_request_is_booked_and_the_topic_shows_no_one(stack: Stack) -> None:
    clinic = await stack.clinic()
    tenant = clinic.tenant_id
    name = f"Irini Sealed{uuid4().hex[:6]}"
    digits = f"69{randbelow(10**8):08d}"
    note = f"left knee, {uuid4().hex[:8]}"
    request_id = f"sealed-{uuid4().hex[:8]}"
    key = await public_key(stack, tenant)
    body = adapters_request(clinic, request_id, key, {"name": name, "phone": f"+30{digits}"}, note)
    await publish(stack, body)

    [confirmed] = await stack.topics.wait_for(stack.of(tenant, BookingConfirmed))
    assert confirmed["request_id"] == request_id
    message = stack.topics.message_of(confirmed)
    assert isinstance(message, BookingConfirmed)
    assert message.contact.name == name, "booking opened what the adapter sealed"
    booking = await anyio.to_thread.run_sync(
        stack.bookings.booking, tenant, UUID(confirmed["booking_id"])
    )
    assert booking.notes == note

    records = await read_topic(stack.bootstrap, BOOKING_REQUESTS, expected=1, timeout=30)
    mine = [r for r in records if request_id.encode() in (r.value or b"")]
    assert len(mine) == 1
    for secret in (name, digits, note):
        assert secret not in (mine[0].value or b"").decode(), f"{secret!r} in clear"


async def test_a_contact_sealed_for_another_tenant_is_refused_as_unreadable(
    stack: Stack,
) -> None:
    clinic = await stack.clinic()
    tenant = clinic.tenant_id
    request_id = f"stolen-{uuid4().hex[:8]}"
    others = await public_key(stack, f"other-{uuid4().hex[:6]}")
    contact = {"name": "Mallory", "phone": "+306941234500"}
    body = adapters_request(clinic, request_id, others, contact, "for someone else")
    await publish(stack, body)

    [refused] = await stack.topics.wait_for(stack.of(tenant, BookingRequestRefused))
    assert refused["request_id"] == request_id
    assert refused["reason"] == "unreadable"
    assert "contact" in refused["detail"]
    assert "notes" in refused["detail"]
    assert "Mallory" not in json.dumps(refused)
    await stack.topics.settle()
    assert not stack.topics.matching(
        lambda m: m["_topic"].endswith(".dlq") and request_id in json.dumps(m)
    ), "answered, not dead-lettered"
