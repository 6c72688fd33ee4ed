"""Slot finding in one process, without I/O: what the projector and a hold pay in CPU.

The clinic has bench-booking's shape (10 therapists and 10 rooms, a 60-minute massage
with a 15-minute buffer on a 15-minute grid, open 01:00–23:59 in Athens), a third of
its day already booked. Each figure is the best of 7 rounds of 30 calls, CPU time:

- ``slot_finding_day_view`` — every slot of one day (a day's first computation).
- ``slot_finding_booking_reach`` — the slots one new booking can change (what the
  projector recomputes for each hold placed).
- ``slot_finding_hold_decision`` — the assignment for one requested slot (a hold).

Run with ``make bench-slot-finding``. A pure function of the code: no stack to start.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from support import figure

from slotline.availability.demo import MASSAGE_NEEDS
from slotline.availability.domain.assignment import find_assignment
from slotline.availability.domain.calendar import Reservation, ResourceDay
from slotline.availability.domain.reservation import reserve_slot
from slotline.availability.domain.resources import ResourceState
from slotline.availability.domain.slots import day_slots
from slotline.availability.domain.values import (
    Interval,
    ResourceKind,
    ServiceDefinition,
    WeeklyHours,
)

ATHENS = ZoneInfo("Europe/Athens")
DAY = date(2027, 3, 2)
NOW = datetime(2027, 3, 1, 8, tzinfo=UTC)
ROUNDS, CALLS = 7, 30


def clinic() -> tuple[ServiceDefinition, list[ResourceState]]:
    hours = WeeklyHours.every_day((clock_time(1), clock_time(23, 59)))
    resources = [
        ResourceState(uuid4(), kind, frozenset({tag}), UUID(int=1), ATHENS, hours)
        for kind, tag in ((ResourceKind.STAFF, "massage"), (ResourceKind.ROOM, "treatment"))
        for _ in range(10)
    ]
    service = ServiceDefinition(
        service_id=uuid4(),
        duration=timedelta(minutes=60),
        buffer_after=timedelta(minutes=15),
        requirements=MASSAGE_NEEDS,
        slot_interval=timedelta(minutes=15),
        booking_horizon=timedelta(days=60),
    )
    return service, resources


def booked_third(
    service: ServiceDefinition, resources: list[ResourceState]
) -> dict[tuple[UUID, date], ResourceDay]:
    """A third of the day booked: each pair of therapist and room every third hour."""
    calendars: dict[tuple[UUID, date], ResourceDay] = {}

    def calendar_for(resource_id: UUID, day: date) -> ResourceDay:
        return calendars.setdefault((resource_id, day), ResourceDay.open(resource_id, day))

    staff, rooms = resources[:10], resources[10:]
    for pair, (person, room) in enumerate(zip(staff, rooms, strict=True)):
        for hour in range(2 + pair % 3, 22, 3):
            start = datetime.combine(DAY, clock_time(hour), tzinfo=ATHENS)
            reserve_slot(
                calendar_for,
                [person.resource_id, room.resource_id],
                Reservation.of(
                    uuid4(), service, service.slot_at(start), 1, NOW + timedelta(days=30)
                ),
                ATHENS,
                now=NOW,
            )
    return calendars


def best_ms(call: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.process_time()
        for _ in range(CALLS):
            call()
        best = min(best, (time.process_time() - started) / CALLS)
    return best * 1000


def main() -> None:
    service, resources = clinic()
    calendars = booked_third(service, resources)
    noon = datetime.combine(DAY, clock_time(12, 15), tzinfo=ATHENS)
    entry = service.occupied(service.slot_at(noon))
    reach = Interval(entry.start - service.duration - service.buffer_after, entry.end)

    def day() -> object:
        return day_slots(service, DAY, resources, calendars, NOW, ATHENS)

    def booking_reach() -> object:
        return day_slots(service, DAY, resources, calendars, NOW, ATHENS, starting_within=reach)

    def hold() -> object:
        return find_assignment(service, service.slot_at(noon), resources, calendars, NOW)

    figure("slot_finding_day_view", f"{best_ms(day):.2f} ms")
    figure("slot_finding_booking_reach", f"{best_ms(booking_reach):.3f} ms")
    figure("slot_finding_hold_decision", f"{best_ms(hold):.3f} ms")


if __name__ == "__main__":
    main()
