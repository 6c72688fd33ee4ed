"""Test support for availability's domain tests: calendars kept in a dict, and bookings
put on them the way a confirmed hold is."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from slotline.availability.demo import Clinic
from slotline.availability.domain.calendar import Reservation, ResourceDay
from slotline.availability.domain.reservation import reserve_slot
from slotline.availability.domain.resources import ResourceState
from slotline.availability.domain.values import ServiceDefinition
from slotline.events.contract import availability_commands as commands

Calendars = dict[tuple[UUID, date], ResourceDay]


def book(
    calendars: Calendars,
    who: ResourceState,
    start: datetime,
    service: ServiceDefinition,
    *,
    now: datetime,
    seats: int = 1,
) -> None:
    """Allocate a booking of ``service`` at ``start`` on every day of ``who`` it touches
    (a month's hold from ``now``; the calendars missing are opened)."""
    reservation = Reservation.of(
        uuid4(), service, service.slot_at(start), seats, now + timedelta(days=30)
    )
    reserve_slot(
        lambda rid, day: calendars.setdefault((rid, day), ResourceDay.open(rid, day)),
        [who.resource_id],
        reservation,
        who.tz,
        now=now,
    )


def place_hold(clinic: Clinic, hold_id: str, start: datetime, **extra: Any) -> commands.PlaceHold:
    """The ``PlaceHold`` booking would send for ``hold_id`` at ``start`` in a demo
    clinic (its first command, keyed by the hold); ``extra``: any other field."""
    return commands.PlaceHold(
        tenant_id=clinic.tenant_id,
        aggregate_id=hold_id,
        sequence=1,
        hold_id=hold_id,
        service_id=str(clinic.service_id),
        location_id=str(clinic.location_id),
        slot_start=start,
        **extra,
    )
