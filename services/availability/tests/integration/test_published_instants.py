"""The published day's instants are written by PostgreSQL (``board.JSON_INSTANT``):
they must be the text pydantic writes for the same instant, whatever the session's
time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import psycopg
import pytest

from slotline.availability.live.board import JSON_INSTANT
from slotline.events.contract.common import TimeSlot

pytestmark = pytest.mark.integration

INSTANTS = [
    datetime(2026, 12, 7, 7, tzinfo=UTC),
    datetime(2026, 12, 7, 9, 0, 0, 250_000, tzinfo=timezone(timedelta(hours=2))),
    datetime(2026, 3, 29, 0, 59, 59, 999_999, tzinfo=UTC),  # Athens changes its clocks next
    datetime(2026, 10, 25, 3, 30, tzinfo=timezone(timedelta(hours=-4))),  # late, a day before
    datetime(2026, 6, 1, 12, 0, 0, 5, tzinfo=timezone(timedelta(hours=5, minutes=45))),
]


@pytest.mark.parametrize("session_zone", ["UTC", "Europe/Athens", "America/New_York"])
def test_postgres_writes_each_instant_as_pydantic_does(
    database_url: str, session_zone: str
) -> None:
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(f"SET TIME ZONE '{session_zone}'")
        written = [
            row[0]
            for instant in INSTANTS
            if (
                row := connection.execute(
                    "SELECT " + JSON_INSTANT.format("%(at)s::timestamptz"), {"at": instant}
                ).fetchone()
            )
            is not None
        ]
    expected = [
        TimeSlot(start=i, end=i + timedelta(hours=1)).model_dump(mode="json")["start"]
        for i in INSTANTS
    ]
    assert written == expected
