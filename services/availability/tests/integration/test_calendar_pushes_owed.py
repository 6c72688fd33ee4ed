"""What a booking event leaves owed in ``calendar_pushes``, in one statement: present on
each allocated resource with a link, absent on any other calendar that held it, and
nothing changed by a state older than the one known."""

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg.rows import DictRow, dict_row

from slotline.availability.calendar_sync.store import LinkStore
from slotline.availability.calendar_sync.tables import make_tables

pytestmark = pytest.mark.integration

START = datetime(2026, 12, 8, 9, tzinfo=UTC)


def _owed(
    conn: psycopg.Connection[DictRow], schema: str, booking: str
) -> dict[UUID, tuple[object, ...]]:
    rows = conn.execute(
        f"SELECT resource_id, present, slot_start, sequence, summary FROM {schema}.calendar_pushes"
        " WHERE booking_id = %s",
        (booking,),
    ).fetchall()
    return {
        r["resource_id"]: (r["present"], r["slot_start"], r["sequence"], r["summary"]) for r in rows
    }


def test_a_booking_is_owed_where_linked_moved_off_a_calendar_and_never_by_an_older_state(
    database_url: str,
) -> None:
    schema = f"owed_{uuid4().hex[:8]}"
    store = LinkStore(schema)
    linked_a, linked_b, unlinked = uuid4(), uuid4(), uuid4()
    booking = f"bk-{uuid4().hex[:8]}"
    with psycopg.connect(database_url, row_factory=dict_row, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        with conn.cursor() as cursor:
            make_tables(cursor, schema)
        for resource, tenant in ((linked_a, "t1"), (linked_b, "t1"), (unlinked, "t2")):
            conn.execute(  # unlinked's link is another tenant's: not this booking's calendar
                f"INSERT INTO {schema}.calendar_links (resource_id, tenant_id, url, username,"
                " sealed_password) VALUES (%s, %s, 'https://cal.example/x', 'u', '\\x00')",
                (resource, tenant),
            )
        slot = (START, START + timedelta(hours=1))
        with conn.cursor() as cursor:
            store.owe(cursor, "t1", booking, [str(linked_a), str(unlinked)], slot, "Massage", 3)
        assert _owed(conn, schema, booking) == {linked_a: (True, START, 3, "Massage")}

        moved = (START + timedelta(hours=2), START + timedelta(hours=3))
        with conn.cursor() as cursor:  # moved onto B: A owes its removal, B the booking
            store.owe(cursor, "t1", booking, [str(linked_b), "not-a-uuid"], moved, None, 4)
        assert _owed(conn, schema, booking) == {
            linked_a: (False, START, 4, "Massage"),
            linked_b: (True, moved[0], 4, ""),
        }

        with conn.cursor() as cursor:  # a late redelivery of the first state: nothing
            store.owe(cursor, "t1", booking, [str(linked_a)], slot, "Massage", 3)
        assert _owed(conn, schema, booking)[linked_a][:3] == (False, START, 4)
        assert _owed(conn, schema, booking)[linked_b][:3] == (True, moved[0], 4)

        with conn.cursor() as cursor:  # cancelled: absent everywhere
            store.owe_absent(cursor, booking, 5)
        assert {r: v[0] for r, v in _owed(conn, schema, booking).items()} == {
            linked_a: False,
            linked_b: False,
        }
