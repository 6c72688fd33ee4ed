"""Resource days as a hold use case reads them.

Loaded the first time slot finding looks at them and then kept (``LazyCalendars``), in
one query for all a use case needs; through a unit of work, so a group's use cases share
each day (``days_in``); seen without one hold, to decide its move (``WithoutHold``); and
identified by their state, so a day's slots worked out a moment ago can be reused
(``calendar_states``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from datetime import date, datetime
from uuid import UUID

from slotline.availability.domain.calendar import Reservation, ResourceDay
from slotline.availability.domain.catalog import Location
from slotline.availability.domain.entries import CalendarView, DayEntries
from slotline.availability.domain.hold import Hold
from slotline.availability.domain.reservation import reserve_slot
from slotline.availability.domain.values import ServiceDefinition
from slotline.events.unit_of_work import UnitOfWork


def calendar_states(
    calendars: Mapping[tuple[UUID, date], ResourceDay], keys: Sequence[tuple[UUID, date]]
) -> tuple[Hashable, ...]:
    """What identifies the state of these calendars: each one's version and, for changes
    not committed yet (a group can roll back and redo them), its newest event's time."""
    states: list[Hashable] = []
    for key in keys:
        day = calendars[key]
        pending = day.pending_events
        if day.version == 1 and len(pending) == 1:
            states.append("empty")  # a day never written, opened only to be looked at
        else:
            states.append((day.version, pending[-1].timestamp if pending else None))
    return tuple(states)


def days_in(
    work: UnitOfWork, keys: Sequence[tuple[UUID, date]]
) -> dict[tuple[UUID, date], ResourceDay]:
    """Resource days through ``work``: a day never written is opened there (and saved
    only if something is reserved on it), so the group's use cases share each day."""
    ids = {ResourceDay.create_id(r, d): (r, d) for r, d in keys}
    found = work.get_many(ids)
    days: dict[tuple[UUID, date], ResourceDay] = {}
    for day_id, key in ids.items():
        day = found.get(day_id)
        if not isinstance(day, ResourceDay):
            day = ResourceDay.open(*key)
            work.open(day)
        days[key] = day
    return days


class WithoutHold(Mapping[tuple[UUID, date], CalendarView]):
    """Calendars as they would be without one hold: a move is decided against this
    before anything changes, so a refused move leaves the hold where it was."""

    def __init__(self, calendars: Mapping[tuple[UUID, date], ResourceDay], hold_id: UUID) -> None:
        self._calendars = calendars
        self._hold_id = hold_id

    def __getitem__(self, key: tuple[UUID, date]) -> CalendarView:
        return DayEntries(
            tuple(e for e in self._calendars[key].entries.values() if e.hold_id != self._hold_id)
        )

    def __iter__(self) -> Iterator[tuple[UUID, date]]:
        return iter(self._calendars)

    def __len__(self) -> int:
        return len(self._calendars)


class LazyCalendars(Mapping[tuple[UUID, date], ResourceDay]):
    """Resource days loaded the first time slot finding looks at them, then kept, so a
    hold reads only the calendars its candidates need and saves the ones it changed."""

    def __init__(
        self,
        load_many: Callable[[Sequence[tuple[UUID, date]]], dict[tuple[UUID, date], ResourceDay]],
    ) -> None:
        self._load_many = load_many
        self._loaded: dict[tuple[UUID, date], ResourceDay] = {}

    def preload(self, keys: Sequence[tuple[UUID, date]]) -> None:
        """Load these calendars now, in one query."""
        missing = [key for key in dict.fromkeys(keys) if key not in self._loaded]
        if missing:
            self._loaded.update(self._load_many(missing))

    def __getitem__(self, key: tuple[UUID, date]) -> ResourceDay:
        if key not in self._loaded:
            self._loaded.update(self._load_many([key]))
        return self._loaded[key]

    def __iter__(self) -> Iterator[tuple[UUID, date]]:
        return iter(self._loaded)

    def __len__(self) -> int:
        return len(self._loaded)

    def reserve(
        self,
        resource_ids: Sequence[UUID],
        hold: Hold,
        definition: ServiceDefinition,
        location: Location,
        expires_at: datetime,
        now: datetime,
    ) -> list[ResourceDay]:
        """Reserve the hold's slot on these resources' days; returns the days changed."""
        return reserve_slot(
            lambda resource_id, day: self[(resource_id, day)],
            resource_ids,
            Reservation.of(hold.id, definition, hold.slot, hold.seats, expires_at),
            location.tz,
            now=now,
            max_per_day=definition.max_per_day_per_resource,
        )
