"""Issue 17 item 7 in booking's read models: the day sheet, timeline and search rows
are sealed under the tenant's read-model key and found by keyed hashes, so no table of
booking's schema shows a customer in clear, while the front desk still lists them by
name and finds them by part of it; rows written before the sealing are sealed when the
service starts. On the real stack: booking and availability on PostgreSQL and the
broker."""

from __future__ import annotations

import anyio
import httpx
import psycopg
import pytest
from psycopg import sql

from slotline.booking.live import board
from slotline.events.contract.timeline import LineKind
from slotline.events.testing.reading import eventually
from slotline.events.testing.service import bearer
from slotline.events.testing.stored import stored_tables

from .conftest import Stack
from .test_customer_erasure import _booked

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


async def _written(client: httpx.AsyncClient, staff: dict[str, str], customer_id: str) -> bool:
    """The booking's day-sheet row and its timeline line are both written. (The row may
    come first: a batch writes the booking's latest state, which can be ahead of the
    events the batch holds; the line comes with the batch holding ``Confirmed``.)"""
    day = await client.get("/v1/bookings", params={"customer_id": customer_id}, headers=staff)
    timeline = await client.get(f"/v1/customers/{customer_id}/timeline", headers=staff)
    kinds = {line["kind"] for line in timeline.json()["timeline"]}
    statuses = [row["status"] for row in day.json()]
    return statuses == ["confirmed"] and LineKind.BOOKING_CONFIRMED in kinds


async def test_no_table_of_booking_holds_them_in_clear_yet_the_front_desk_finds_them(
    stack: Stack,
) -> None:
    """The read models (day sheet, timeline, search) are sealed too, and a copy of every
    table of booking's schema shows no name, number, address or note; the front desk
    still lists the person by name and finds them by part of it or by some digits."""
    clinic, person, booked = await _booked(stack)
    staff = bearer("front_desk", clinic.tenant_id)
    client = stack.booking.client
    surname = person.name.split()[1]

    async def found(query: str) -> bool:
        answer = await client.get("/v1/customers/search", params={"q": query}, headers=staff)
        assert answer.status_code == 200, answer.text
        return booked["customer_id"] in {row["customer_id"] for row in answer.json()}

    await eventually(lambda: _written(client, staff, booked["customer_id"]), timeout=20)
    assert await found(surname[3:12].upper()), "by part of the name"
    assert await found(person.digits[2:9]), "by some digits of the phone"
    assert await found(person.email.split("@")[0][2:]), "by part of the address"
    assert not await found(f"{surname}x"), "a piece the name lacks: no candidate"
    # every piece of "akyr" is in "Ariadne Kyriakou…" (ak, ky, yr), the text is not:
    # the hashes make it a candidate, the full match on the opened name refuses it
    assert not await found("akyr"), "pieces alone do not match: the text must"
    day = await client.get(
        "/v1/bookings", params={"customer_id": booked["customer_id"]}, headers=staff
    )
    assert [row["customer_name"] for row in day.json()] == [person.name]
    settings = stack.booking_settings
    tables = await anyio.to_thread.run_sync(
        stored_tables, settings.database_url, stack.bookings.schema
    )
    assert {"booking_view", "timeline"} <= set(tables)
    for table, rows in tables.items():
        for text in (*person.texts(), person.email.split("@")[0]):
            assert text.encode() not in rows, f"{text!r} readable in booking's {table}"


async def test_rows_written_before_the_sealing_are_sealed_on_start(stack: Stack) -> None:
    clinic, person, booked = await _booked(stack)
    staff = bearer("front_desk", clinic.tenant_id)
    client = stack.booking.client
    app = stack.bookings
    url = stack.booking_settings.database_url
    views = sql.Identifier(app.schema, "booking_view")
    lines = sql.Identifier(app.schema, "timeline")

    await eventually(lambda: _written(client, staff, booked["customer_id"]), timeout=20)

    def as_before_the_sealing() -> None:
        with psycopg.connect(url) as conn:
            conn.execute(
                sql.SQL(
                    "UPDATE {} SET customer_name = %s, phone = %s, email = %s,"
                    " phone_index = NULL, email_index = NULL, search_grams = NULL,"
                    " sealed = false WHERE booking_id = %s"
                ).format(views),
                (person.name, person.phone, person.email, booked["booking_id"]),
            )
            conn.execute(
                sql.SQL(
                    "UPDATE {} SET summary = %s, facts = '{{}}', phone = %s, email = %s,"
                    " phone_index = NULL, email_index = NULL, search_grams = NULL,"
                    " sealed = false WHERE booking_id = %s"
                ).format(lines),
                (f"Booked for {person.name}", person.phone, person.email, booked["booking_id"]),
            )

    def seal_on_start() -> int:
        with app.process_recorder.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
            return board.seal_legacy_rows(cursor, app.schema, app.read_seal)

    await anyio.to_thread.run_sync(as_before_the_sealing)
    before = await anyio.to_thread.run_sync(stored_tables, url, app.schema)
    assert person.name.encode() in before["booking_view"], "the legacy row is in clear"
    assert await anyio.to_thread.run_sync(seal_on_start) >= 2
    after = await anyio.to_thread.run_sync(stored_tables, url, app.schema)
    for table in ("booking_view", "timeline"):
        for text in (person.name, person.digits, person.email):
            assert text.encode() not in after[table], f"{text!r} still in clear in {table}"
    found = await client.get(
        "/v1/customers/search", params={"q": person.name.split()[1][:6]}, headers=staff
    )
    assert booked["customer_id"] in {row["customer_id"] for row in found.json()}
    timeline = await client.get(f"/v1/customers/{booked['customer_id']}/timeline", headers=staff)
    assert f"Booked for {person.name}" in {line["summary"] for line in timeline.json()["timeline"]}
    assert await anyio.to_thread.run_sync(seal_on_start) == 0, "sealed once"
