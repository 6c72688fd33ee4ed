"""The front desk's day sheet: one column per resource (staff, rooms, equipment), one
row per time step, each booking drawn over the rows it takes, each time a resource is
free to start a service shown as a cell to book from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

STEP = timedelta(minutes=15)
ACTIVE = frozenset(
    {"confirmed", "completed", "no_show", "requested", "awaiting_payment", "confirming"}
)


@dataclass
class Cell:
    kind: str  # booking, free, closed or covered (under a booking drawn above)
    rows: int = 1
    booking: dict[str, Any] | None = None
    services: list[str] = field(default_factory=list)  # ids free to start here


@dataclass
class Sheet:
    day: date
    times: list[datetime]
    resources: list[dict[str, Any]]
    cells: list[list[Cell]]  # [time][resource]
    unplaced: list[dict[str, Any]]  # active bookings on no listed resource


def _floor(moment: datetime) -> datetime:
    return moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)


def day_sheet(
    day: date,
    zone: ZoneInfo,
    resources: Sequence[dict[str, Any]],
    bookings: Sequence[dict[str, Any]],
    free_slots: Sequence[dict[str, Any]],
) -> Sheet:
    local = [
        (
            b,
            datetime.fromisoformat(b["slot_start"]).astimezone(zone),
            datetime.fromisoformat(b["slot_end"]).astimezone(zone),
        )
        for b in bookings
        if b["status"] in ACTIVE
    ]
    starts = [datetime.fromisoformat(s["start"]).astimezone(zone) for s in free_slots]
    ends = [datetime.fromisoformat(s["end"]).astimezone(zone) for s in free_slots]
    first = min([*starts, *(s for _, s, _ in local)], default=None)
    last = max([*ends, *(e for _, _, e in local)], default=None)
    opening = datetime.combine(day, time(9), zone)
    closing = datetime.combine(day, time(18), zone)
    begin = _floor(min(first, opening) if first and first.date() == day else opening)
    finish = max(last, closing) if last and last.date() == day else closing
    times: list[datetime] = []
    moment = begin
    while moment < finish:
        times.append(moment)
        moment += STEP
    index = {moment: n for n, moment in enumerate(times)}
    columns = {str(r["id"]): n for n, r in enumerate(resources)}
    cells = [[Cell("closed") for _ in resources] for _ in times]
    for slot, start in zip(free_slots, starts, strict=True):
        row = index.get(_floor(start))
        for resource_id in slot.get("resource_ids", []):
            column = columns.get(str(resource_id))
            if row is not None and column is not None:
                cell = cells[row][column]
                cell.kind = "free"
                if slot.get("service_id") and slot["service_id"] not in cell.services:
                    cell.services.append(str(slot["service_id"]))
    unplaced = []
    for booking, start, end in sorted(local, key=lambda item: item[1]):
        placed = False
        for resource_id in booking.get("resource_ids") or []:
            column = columns.get(str(resource_id))
            row = index.get(_floor(start))
            if column is None or row is None:
                continue
            span = max(1, -(-int((end - times[row]).total_seconds()) // int(STEP.total_seconds())))
            span = min(span, len(times) - row)
            cells[row][column] = Cell("booking", span, booking)
            for below in range(row + 1, row + span):
                cells[below][column] = Cell("covered")
            placed = True
        if not placed:
            unplaced.append(booking)
    return Sheet(day, times, list(resources), cells, unplaced)
