"""The front desk's day sheet: bookings drawn over the rows they take, free starts
clickable per resource, a booking without a listed resource kept in view."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from slotline.web.domain.daysheet import day_sheet

pytestmark = pytest.mark.unit

ATHENS = ZoneInfo("Europe/Athens")
RESOURCES = [
    {"id": "r1", "name": "therapist", "kind": "staff"},
    {"id": "r2", "name": "room", "kind": "room"},
]


def booking(
    start: str, end: str, resources: list[str], status: str = "confirmed"
) -> dict[str, object]:
    return {
        "booking_id": "b",
        "slot_start": start,
        "slot_end": end,
        "resource_ids": resources,
        "status": status,
        "customer_name": "Maria",
        "service_name": "Massage",
    }


def test_a_booking_spans_the_rows_of_its_time_on_each_of_its_resources() -> None:
    sheet = day_sheet(
        date(2026, 12, 7),
        ATHENS,
        RESOURCES,
        [booking("2026-12-07T08:00:00+00:00", "2026-12-07T09:00:00+00:00", ["r1", "r2"])],
        [],
    )
    row = [t.strftime("%H:%M") for t in sheet.times].index("10:00")
    assert [c.kind for c in sheet.cells[row]] == ["booking", "booking"]
    assert sheet.cells[row][0].rows == 4
    assert sheet.cells[row + 1][0].kind == "covered"


def test_a_free_slot_makes_a_bookable_cell_for_each_free_resource() -> None:
    free = [
        {
            "start": "2026-12-07T09:00:00+00:00",
            "end": "2026-12-07T10:00:00+00:00",
            "resource_ids": ["r2"],
            "service_id": "s1",
        }
    ]
    sheet = day_sheet(date(2026, 12, 7), ATHENS, RESOURCES, [], free)
    row = [t.strftime("%H:%M") for t in sheet.times].index("11:00")
    assert [c.kind for c in sheet.cells[row]] == ["closed", "free"]
    assert sheet.cells[row][1].services == ["s1"]


def test_cancelled_bookings_leave_the_sheet_and_unplaced_ones_are_listed() -> None:
    sheet = day_sheet(
        date(2026, 12, 7),
        ATHENS,
        RESOURCES,
        [
            booking("2026-12-07T08:00:00+00:00", "2026-12-07T09:00:00+00:00", ["r1"], "cancelled"),
            booking("2026-12-07T10:00:00+00:00", "2026-12-07T11:00:00+00:00", [], "requested"),
        ],
        [],
    )
    assert all(c.kind == "closed" for row in sheet.cells for c in row)
    assert len(sheet.unplaced) == 1
