"""Issue 17 item 9: the public topics carry ids, not names, phones, e-mails or manage
links. Read raw from the real broker, as an analyst without the platform key would,
a booking's records show none of the customer's contact; Slotline's consumers open them.
"""

from __future__ import annotations

import json
from secrets import randbelow
from uuid import uuid4

import pytest

from slotline.events.contract.booking import BookingConfirmed, CustomerRegistered
from slotline.events.contract.registry import parse_message
from slotline.events.testing.reading import eventually, read_topic
from slotline.events.topics import BOOKING_EVENTS, dead_letter_topic
from slotline.events.wire_sealing import is_sealed

from .conftest import Stack, form, future_start

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


async def test_a_bookings_records_carry_no_contact_in_clear(stack: Stack) -> None:
    clinic = await stack.clinic()
    tenant = clinic.tenant_id
    name = f"Eleni Sealed{uuid4().hex[:6]}"
    email = f"eleni-{uuid4().hex[:8]}@example.com"
    digits = f"69{randbelow(10**8):08d}"
    answer = await stack.booking.client.post(
        f"/v1/public/{tenant}/bookings",
        json=form(clinic, future_start(hour=14), name=name, phone=f"+30{digits}", email=email),
    )
    assert answer.status_code in (201, 202), answer.text
    manage_token = answer.json()["manage_url"].rsplit("/", 1)[-1]
    await stack.topics.wait_for(stack.of(tenant, BookingConfirmed))
    await stack.topics.wait_for(stack.of(tenant, CustomerRegistered))

    published = len(stack.topics.matching(lambda m: m["_topic"] == BOOKING_EVENTS))
    records = await read_topic(stack.bootstrap, BOOKING_EVENTS, expected=published)
    mine = [r for r in records if f'"tenant_id":"{tenant}"' in (r.value or b"").decode()]
    assert len(mine) >= 3, "held, confirmed and the customer's record at least"
    for record in mine:
        raw = (record.value or b"").decode()
        for secret in (name, email, digits, manage_token):
            assert secret not in raw, f"{secret!r} in clear in {json.loads(raw)['event_type']}"

    confirmed = next(
        message
        for message in (parse_message(BOOKING_EVENTS, r.value or b"") for r in mine)
        if isinstance(message, BookingConfirmed)
    )
    assert confirmed.schema_version == 2
    assert confirmed.contact.name == name, "Slotline's consumers open what they need"
    assert confirmed.contact.email == email
    assert confirmed.manage_url is not None
    assert confirmed.manage_url.endswith(manage_token)


async def test_a_sealed_field_moved_to_another_tenant_is_dead_lettered_not_read(
    stack: Stack,
) -> None:
    """A sealed value is bound to its tenant, message type and field: copied into
    another tenant's record it does not open, and the consumer dead-letters the record
    with the reason (never the value) and goes on."""
    clinic = await stack.clinic()
    registered = CustomerRegistered(
        tenant_id=clinic.tenant_id,
        aggregate_id=str(uuid4()),
        customer_id=str(uuid4()),
        contact={"name": "Moved Along", "phone": "+306940000123"},
    )
    body = json.loads(registered.to_json())
    assert is_sealed(body["contact"])
    thief = f"t-{uuid4().hex[:10]}"
    body.update(tenant_id=thief, event_id=str(uuid4()))
    broker = stack.booking.runtime.broker
    assert broker is not None
    await broker.publish(json.dumps(body).encode(), topic=BOOKING_EVENTS, key=b"moved")

    letters: list[dict[str, object]] = []

    async def dead_lettered() -> bool:
        records = await read_topic(
            stack.bootstrap, dead_letter_topic(BOOKING_EVENTS), expected=1, timeout=5
        )
        letters[:] = [
            json.loads(r.value or b"{}") for r in records if thief in (r.value or b"").decode()
        ]
        return bool(letters)

    await eventually(dead_lettered, timeout=45)
    assert "does not open for this tenant" in str(letters[0]["reason"])
    assert "Moved Along" not in json.dumps(letters)
