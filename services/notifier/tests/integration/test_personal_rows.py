"""Issue 17 items 7 and 8 in the notifier: a booking's card and its queued messages keep
the customer's name, number, address, manage link and message variables sealed under
the person's key; ``CustomerErased`` destroys those keys with the message's position,
so the rows read ``[erased]``, the waiting reminders are not sent and the card goes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import psycopg
import pytest

from slotline.events.contract import booking as bookings
from slotline.events.privacy.personal import ERASED
from slotline.events.testing.reading import eventually
from slotline.events.testing.service import RunningService
from slotline.events.wire_sealing import pseudonym
from slotline.notifier.persistence import queue, records
from slotline.notifier.persistence.unit_of_work import reading
from slotline.notifier.testing import MailServer, TestClock, confirmed, new_tenant, publish

pytestmark = pytest.mark.integration


def _rows(service: RunningService, tenant: str) -> tuple[list[dict[str, Any]], list[Any]]:
    """The tenant's raw message rows (key, state, body text) and card texts."""
    settings = service.runtime.settings
    schema = settings.schema_name
    with psycopg.connect(settings.database_url) as conn:
        messages = conn.execute(
            f'SELECT key, state, body::text AS body FROM "{schema}".messages WHERE tenant_id = %s',
            (tenant,),
        ).fetchall()
        cards = conn.execute(
            f'SELECT card::text FROM "{schema}".bookings WHERE tenant_id = %s',
            (tenant,),
        ).fetchall()
    return [{"key": k, "state": s, "body": b} for k, s, b in messages], [c[0] for c in cards]


async def test_cards_and_messages_are_sealed_and_forgotten_when_the_customer_is_erased(
    service: RunningService, mail_server: MailServer, clock: TestClock
) -> None:
    tenant = new_tenant()
    email = f"eirini-{uuid.uuid4().hex[:8]}@example.com"
    event = confirmed(tenant, clock.now + timedelta(days=3), email=email)
    await publish(service, event)
    await eventually(lambda: mail_server.to(email), timeout=20)

    async def queued() -> bool:
        messages, cards = await anyio.to_thread.run_sync(_rows, service, tenant)
        return bool(cards) and any(m["state"] == "scheduled" for m in messages)

    await eventually(queued, timeout=20)  # the confirmation sent, the reminders waiting
    messages, cards = await anyio.to_thread.run_sync(_rows, service, tenant)
    for text in (email, event.manage_url or "", "Ana"):
        assert all(text not in m["body"] for m in messages), f"{text!r} in a queued message"
        assert all(text not in c for c in cards), f"{text!r} in the booking card"

    erased = bookings.CustomerErased(
        tenant_id=tenant,
        aggregate_id=str(uuid.uuid4()),
        customer_id=event.customer_id,
        email_pseudonym=pseudonym(tenant, email),
        erased_at=datetime.now(UTC),
    )
    await publish(service, erased)

    async def forgotten() -> bool:
        messages, cards = await anyio.to_thread.run_sync(_rows, service, tenant)
        return not cards and all(m["state"] != "scheduled" for m in messages)

    await eventually(forgotten, timeout=20)
    app: Any = service.runtime.application
    messages, _ = await anyio.to_thread.run_sync(_rows, service, tenant)
    sent = next(m for m in messages if m["state"] == queue.DONE)

    def body_now() -> dict[str, Any] | None:
        with reading(app) as work:
            return records.message_body(work, tenant, sent["key"])

    body = await anyio.to_thread.run_sync(body_now)
    assert body is not None
    assert body["to_email"] == ERASED, "the sent message's address is unreadable now"
    assert body["tenant_id"] == tenant, "what is not personal stays"
