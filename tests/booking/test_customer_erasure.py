"""Issue 17 items 7 and 8: a customer's personal data is sealed under their own key in
the event store; an owner can export it, erase it (the key destroyed: every replay
shows placeholders, the bookings stay), and a tenant's retention rule erases customers
inactive for too long. On the real stack: booking and availability on PostgreSQL and
the broker."""

from __future__ import annotations

from datetime import timedelta
from secrets import randbelow
from typing import Any
from uuid import UUID, uuid4

import anyio
import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from slotline.booking.application import BookingApplication
from slotline.booking.domain.booking import Booking
from slotline.booking.live.projection import BookingBoard
from slotline.booking.retention import RetentionJob
from slotline.events.contract.booking import BookingConfirmed, CustomerErased
from slotline.events.contract.timeline import LineKind
from slotline.events.privacy.personal import ERASED
from slotline.events.store import postgres_env
from slotline.events.testing.reading import eventually
from slotline.events.testing.service import bearer
from slotline.events.testing.stored import stored_notifications, stored_states
from slotline.events.wire_sealing import pseudonym

from .conftest import Stack, form, future_start

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


class Person:
    """Someone with a name, number, address and note no other test uses."""

    def __init__(self) -> None:
        mark = uuid4().hex[:8]
        self.name = f"Ariadne Kyriakou{mark}"
        self.digits = f"69{randbelow(10**8):08d}"
        self.phone = f"+30{self.digits}"
        self.email = f"ariadne-{mark}@example.com"
        self.notes = f"allergic to lavender {mark}"

    def texts(self) -> tuple[str, ...]:
        return (self.name, self.digits, self.email, self.notes)


async def _booked(stack: Stack, tenant_hour: int = 11) -> tuple[Any, Person, dict[str, Any]]:
    clinic = await stack.clinic()
    person = Person()
    answer = await stack.booking.client.post(
        f"/v1/public/{clinic.tenant_id}/bookings",
        json=form(
            clinic,
            future_start(hour=tenant_hour),
            name=person.name,
            phone=person.phone,
            email=person.email,
            notes=person.notes,
        ),
    )
    assert answer.status_code in (201, 202), answer.text
    await stack.topics.wait_for(stack.of(clinic.tenant_id, BookingConfirmed))
    return clinic, person, answer.json()


def _raw_store(stack: Stack) -> bytes:
    return stored_states(stack.booking_settings.database_url, stack.bookings)


async def test_the_event_store_holds_no_name_phone_email_or_note_in_clear(
    stack: Stack,
) -> None:
    clinic, person, booked = await _booked(stack)
    raw = await anyio.to_thread.run_sync(_raw_store, stack)
    assert raw
    for text in person.texts():
        assert text.encode() not in raw, f"{text!r} readable in booking's event store"
    customer = await stack.booking.client.get(
        f"/v1/customers/{booked['customer_id']}", headers=bearer("front_desk", clinic.tenant_id)
    )
    assert customer.json()["name"] == person.name, "the service still reads it"
    assert UUID(booked["customer_id"]).version == 4, "random: not recomputable from the phone"


async def test_an_owner_exports_everything_kept_about_a_customer(stack: Stack) -> None:
    clinic, person, booked = await _booked(stack)
    tenant, customer_id = clinic.tenant_id, booked["customer_id"]
    path = f"/v1/customers/{customer_id}/export"
    refused = await stack.booking.client.get(path, headers=bearer("manager", tenant))
    assert refused.status_code == 403
    elsewhere = await stack.booking.client.get(path, headers=bearer("owner", "another-tenant"))
    assert elsewhere.status_code == 404

    async def exported() -> dict[str, Any]:
        export = await stack.booking.client.get(path, headers=bearer("owner", tenant))
        assert export.status_code == 200, export.text
        data: dict[str, Any] = export.json()
        return data

    async def with_booking() -> bool:  # its bookings are found through the day sheet
        return bool((await exported())["bookings"])

    await eventually(with_booking, timeout=20)
    data = await exported()
    assert data["contact"]["name"] == person.name
    assert data["contact"]["email"] == person.email
    [booking] = data["bookings"]
    assert booking["booking_id"] == booked["booking_id"]
    assert booking["notes"] == person.notes
    assert booking["status"] == "confirmed"

    async def with_timeline() -> bool:
        lines = (await exported())["timeline"]
        return LineKind.BOOKING_CONFIRMED in {line["kind"] for line in lines}

    await eventually(with_timeline, timeout=20)


async def test_erasure_leaves_placeholders_in_every_replay_and_the_booking_whole(
    stack: Stack,
) -> None:
    clinic, person, booked = await _booked(stack)
    tenant, customer_id = clinic.tenant_id, booked["customer_id"]
    client = stack.booking.client
    path = f"/v1/customers/{customer_id}/erasure"
    assert (await client.post(path, headers=bearer("manager", tenant))).status_code == 403

    erased = await client.post(path, headers=bearer("owner", tenant, "owner-7"))
    assert erased.status_code == 200, erased.text
    again = await client.post(path, headers=bearer("owner", tenant, "owner-7"))
    assert again.json() == erased.json(), "asking again answers the same"

    record = await client.get(f"/v1/customers/{customer_id}", headers=bearer("owner", tenant))
    assert record.json()["name"] == ERASED
    found = await client.get(
        "/v1/customers", params={"phone": person.phone}, headers=bearer("owner", tenant)
    )
    assert found.status_code == 404, "the number leads to no one any more"

    # A fresh process replaying the store: placeholders, and the booking stands.
    def replay() -> Booking:
        settings = stack.booking_settings
        other = BookingApplication(env=postgres_env(settings.database_url, settings.schema_name))
        try:
            found = other.get_many([UUID(booked["booking_id"])])[UUID(booked["booking_id"])]
        finally:
            other.close()
        assert isinstance(found, Booking)
        return found

    replayed = await anyio.to_thread.run_sync(replay)
    assert replayed.contact_data["name"] == ERASED
    assert replayed.contact_data["phone"] == ERASED
    assert replayed.notes == ERASED
    assert replayed.status.value == "confirmed"
    assert replayed.terms_data["service_id"] == str(clinic.service_id)

    sheet = await client.get(
        "/v1/bookings",
        params={
            "start": (future_start(hour=11) - timedelta(hours=1)).isoformat(),
            "end": (future_start(hour=11) + timedelta(hours=2)).isoformat(),
        },
        headers=bearer("front_desk", tenant),
    )
    assert sheet.status_code == 200, sheet.text
    [row] = [r for r in sheet.json() if r["booking_id"] == booked["booking_id"]]
    assert row["customer_name"] == ERASED
    assert row["phone"] is None

    [notice] = await stack.topics.wait_for(stack.of(tenant, CustomerErased))
    assert notice["customer_id"] == customer_id
    assert notice["phone_pseudonym"] == pseudonym(tenant, person.phone)
    assert person.digits not in str(notice)

    # The same person books again: a new customer, under a new key.
    again_booked = await client.post(
        f"/v1/public/{tenant}/bookings",
        json=form(clinic, future_start(hour=15), name=person.name, phone=person.phone),
    )
    assert again_booked.status_code in (201, 202), again_booked.text
    assert again_booked.json()["customer_id"] != customer_id
    trail = await client.get(
        "/v1/audit", params={"item_id": customer_id}, headers=bearer("owner", tenant)
    )
    assert any(r["actor"] == "owner-7" and r["action"].startswith("POST") for r in trail.json()), (
        "who erased whom is on the audit trail"
    )


def _board_row(stack: Stack, booking_id: UUID) -> dict[str, Any] | None:
    """The booking's day-sheet row as stored, or None."""
    app = stack.bookings
    view = sql.Identifier(app.schema, "booking_view")
    with psycopg.connect(stack.booking_settings.database_url, row_factory=dict_row) as conn:
        query = sql.SQL("SELECT * FROM {} WHERE booking_id = %s").format(view)
        return conn.execute(query, (booking_id,)).fetchone()


def _unproject(stack: Stack, booking_id: UUID) -> None:
    """As if the board's batch with the booking had not been written yet."""
    app = stack.bookings
    with psycopg.connect(stack.booking_settings.database_url) as conn:
        for table in ("booking_view", "timeline"):
            conn.execute(
                sql.SQL("DELETE FROM {} WHERE booking_id = %s").format(
                    sql.Identifier(app.schema, table)
                ),
                (str(booking_id),),
            )


def _lines(stack: Stack, booking_id: UUID) -> int:
    app = stack.bookings
    with psycopg.connect(stack.booking_settings.database_url) as conn:
        query = sql.SQL("SELECT count(*) FROM {} WHERE booking_id = %s").format(
            sql.Identifier(app.schema, "timeline")
        )
        row = conn.execute(query, (str(booking_id),)).fetchone()
    assert row is not None
    return int(row[0])


async def test_a_batch_projected_after_the_erasure_writes_no_one_back_whatever_it_cached(
    stack: Stack,
) -> None:
    """Another replica keeps a customer's key (and their bookings) cached for a while
    after an erasure, and so may a reader that ran in the erasure's last moments: a board
    batch projected with those caches after the erasure must still write the placeholder
    into the day sheet and no line into the timeline, for good."""
    clinic, person, booked = await _booked(stack)
    booking_id = UUID(booked["booking_id"])
    settings = stack.booking_settings

    def projected() -> bool:  # the batch with ``Confirmed`` written: its line is there
        row = _board_row(stack, booking_id)
        confirmed = row is not None and row["status"] == "confirmed"
        return confirmed and _lines(stack, booking_id) > 0

    await eventually(projected, timeout=20)
    replica = BookingApplication(env=postgres_env(settings.database_url, settings.schema_name))
    try:
        read = await anyio.to_thread.run_sync(replica.get_many, [booking_id])
        assert read[booking_id].contact_data["name"] == person.name, "the replica's caches"
        await anyio.to_thread.run_sync(_unproject, stack, booking_id)
        path = f"/v1/customers/{booked['customer_id']}/erasure"
        erased = await stack.booking.client.post(path, headers=bearer("owner", clinic.tenant_id))
        assert erased.status_code == 200, erased.text
        assert await anyio.to_thread.run_sync(_board_row, stack, booking_id) is None

        board = BookingBoard(
            replica, database_url=settings.database_url, name=f"board-replica-{uuid4().hex}"
        )
        batch = await anyio.to_thread.run_sync(
            stored_notifications, settings.database_url, stack.bookings, [booking_id]
        )
        await anyio.to_thread.run_sync(board.project, batch)
    finally:
        replica.close()

    row = await anyio.to_thread.run_sync(_board_row, stack, booking_id)
    assert row is not None, "the batch wrote the booking's row"
    assert stack.bookings.read_seal.open(clinic.tenant_id, row["customer_name"]) == ERASED
    assert (row["phone"], row["email"], row["phone_index"], row["email_index"]) == (None,) * 4
    assert not row["search_grams"]
    assert row["status"] == "confirmed", "the booking itself stays whole"
    assert await anyio.to_thread.run_sync(_lines, stack, booking_id) == 0


async def test_the_retention_rule_erases_the_tenants_inactive_customers_only(
    stack: Stack,
) -> None:
    (old, _, booked), (kept, _, other) = await _booked(stack), await _booked(stack, 12)
    app = stack.bookings
    later = app.clock() + timedelta(days=400)  # a year after the bookings ended
    job = RetentionJob(app, {old.tenant_id: 12}, clock=lambda: later)
    erased = await anyio.to_thread.run_sync(job.sweep)
    assert erased >= 1
    first = await anyio.to_thread.run_sync(app.customer, old.tenant_id, UUID(booked["customer_id"]))
    second = await anyio.to_thread.run_sync(
        app.customer, kept.tenant_id, UUID(other["customer_id"])
    )
    assert first.erased_at is not None
    assert first.contact.name == ERASED
    assert second.erased_at is None, "another tenant, no rule: kept"
    assert await anyio.to_thread.run_sync(job.sweep) == 0, "erased once"
