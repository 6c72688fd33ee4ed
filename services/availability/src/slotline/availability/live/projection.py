"""The slot projection: the event store's log → the live free-slot view, exactly once.

Each batch of events is applied to the projected aggregates; the days whose slots
they can change are recomputed with the same rules a hold uses (:func:`day_slots`)
and written, with the hold rows and the projection's position, in one transaction.
A replayed batch fails on the position and changes nothing. Listeners hear of each
recomputed day by NOTIFY when it commits.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from datetime import date, datetime, timedelta
from typing import Any, cast
from uuid import UUID

import anyio
from eventsourcing.persistence import Notification
from psycopg import Cursor, sql
from psycopg.rows import DictRow

from slotline.availability.application import AvailabilityApplication
from slotline.availability.domain.calendar import ResourceDay
from slotline.availability.domain.catalog import Location, Resource, Service
from slotline.availability.domain.hold import Hold
from slotline.availability.domain.resources import ResourceState
from slotline.availability.domain.roster import Roster
from slotline.availability.domain.rules import last_bookable_date
from slotline.availability.domain.schedule import dates_touched, local_date_of
from slotline.availability.domain.slots import day_slots
from slotline.availability.domain.values import Interval, ServiceDefinition
from slotline.availability.live import board
from slotline.availability.live.board import DayKey
from slotline.availability.live.publishing import SlotsPublisher
from slotline.availability.live.state import ProjectedState
from slotline.events.logs import get_logger
from slotline.events.projection import Projection

log = get_logger(__name__)

PROJECTION_NAME = "slot-view"


class SlotProjection(Projection):
    """Keeps ``slot_view`` / ``hold_view`` current; one leader per store."""

    def __init__(
        self,
        app: AvailabilityApplication,
        *,
        database_url: str,
        batch_size: int = 1000,
        idle_poll_seconds: float = 1.0,
        pace_seconds: float = 0.0,
        limited_threshold: int = 2,
        horizon_roll_seconds: float = 900.0,
        clock: Callable[[], datetime] | None = None,
        publisher: SlotsPublisher | None = None,
    ) -> None:
        super().__init__(
            app,
            database_url=database_url,
            name=PROJECTION_NAME,
            batch_size=batch_size,
            idle_poll_seconds=idle_poll_seconds,
            pace_seconds=pace_seconds,
        )
        self.availability = app
        self.limited_threshold = limited_threshold
        self.horizon_roll_seconds = horizon_roll_seconds
        self.clock = clock or app.clock
        self.world = ProjectedState(
            app.repository, load_many=app.load_many, long_lived=app.long_lived
        )
        self.events_applied = 0
        self.days_recomputed = 0
        self._last_roll = 0.0
        self.publisher = publisher

    # --- following ---------------------------------------------------------------

    async def run(self) -> None:
        """Follow the log; while leading, the publisher sends the recomputed days."""
        if self.publisher is None:
            await super().run()
            return
        publishing = asyncio.create_task(self.publisher.run(lambda: self.state == "leading"))
        try:
            await super().run()
        finally:
            publishing.cancel()
            with suppress(asyncio.CancelledError):
                await publishing

    async def follow_once(self) -> int:
        handled = await super().follow_once()
        rolled = time.monotonic() - self._last_roll > self.horizon_roll_seconds
        if rolled:
            await anyio.to_thread.run_sync(self.roll_horizon)
        if self.publisher is not None and (handled or rolled):
            self.publisher.wake()
        return handled

    def make_tables(self, cursor: Cursor[DictRow]) -> None:
        board.create_tables(cursor, self.schema)

    def project(self, notifications: Sequence[Notification]) -> None:
        """Apply a batch and write what it changed, with the position, in one transaction."""
        days: dict[DayKey, Interval | None] = {}  # None: the whole day
        holds: dict[UUID, Hold] = {}
        retired: set[UUID] = set()
        for notification in notifications:
            event = self.app.mapper.to_domain_event(notification)
            # What a calendar event books or frees, read before the event is applied.
            entry = self._entry_of(event) if _changes_occupancy(event) else None
            after = self.world.apply(event)
            self.events_applied += 1
            if isinstance(after, Hold):
                holds[after.id] = after
            elif isinstance(after, ResourceDay):
                _widen(days, self._days_touched(entry, after))
            elif isinstance(after, Service) and after.retired:
                retired.add(after.id)
            elif isinstance(after, Location | Resource | Service):
                _widen(days, dict.fromkeys(self._days_of_catalog_change(after)))
        now = self.clock()
        computed = [
            (key, days[key], *self._compute(key, now, days[key]))
            for key in sorted(days, key=_order)
        ]
        revision = notifications[-1].id
        with self.recorder.datastore.transaction(commit=True) as cursor:
            for service_id in retired:
                board.drop_service(cursor, self.schema, service_id)
            for key, within, definition, slots in computed:
                if definition is not None and key.service_id not in retired:
                    board.replace_day(
                        cursor, self.schema, key, definition, slots, revision, now, within
                    )
            board.upsert_holds(cursor, self.schema, self._occupying(holds.values()))
            self.record_position(cursor, notifications)
        self.days_recomputed += len(computed)

    def roll_horizon(self) -> None:
        """Compute the days that entered a service's booking horizon since the last roll."""
        self._last_roll = time.monotonic()
        now = self.clock()
        with self.recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                sql.SQL("SELECT DISTINCT service_id, location_id FROM {}").format(
                    sql.Identifier(self.schema, "slot_day")
                )
            )
            pairs = [(row["service_id"], row["location_id"]) for row in cursor.fetchall()]
            missing: set[DayKey] = set()
            for service_id, location_id in pairs:
                service = self.world.get(service_id)
                if not isinstance(service, Service) or service.retired:
                    continue
                known = board.days_computed(cursor, self.schema, service_id, location_id)
                missing |= {k for k in self._service_days(service) if k.day not in known}
        if missing:
            computed = [(key, *self._compute(key, now)) for key in sorted(missing, key=_order)]
            with self.recorder.datastore.transaction(commit=True) as cursor:
                for key, definition, slots in computed:
                    if definition is not None:
                        board.replace_day(cursor, self.schema, key, definition, slots, 0, now)
            log.info("slot view horizon rolled", days=len(missing))

    def rebuild(self) -> None:
        """Forget the view and its position; the next batches replay the whole log."""
        with self.recorder.datastore.transaction(commit=True) as cursor:
            board.create_tables(cursor, self.schema)
            board.clear(cursor, self.schema)
            cursor.execute(
                sql.SQL("DELETE FROM {} WHERE application_name = %s").format(
                    sql.Identifier(self.schema, self.recorder.tracking_table_name)
                ),
                (self.name,),
            )
        self.world.forget()
        self.position = 0
        self._tables_ready = True

    def _occupying(self, holds: Iterable[Hold]) -> list[tuple[Hold, Interval]]:
        rows = []
        for hold in holds:
            service = self.world.get(hold.service_id)
            definition = service.definition if isinstance(service, Service) else None
            rows.append((hold, definition.occupied(hold.slot) if definition else hold.slot))
        return rows

    # --- which days an event changes ------------------------------------------------

    def _entry_of(self, event: Any) -> Interval | None:
        """The occupied time a calendar event adds, confirms or frees (None: opened)."""
        if hasattr(event, "occupied_start"):
            return Interval(event.occupied_start, event.occupied_end)
        hold_id = getattr(event, "hold_id", None)
        prior = self.world.before(event)
        entries = getattr(prior, "entries", {})
        return cast(Interval, entries[hold_id].occupied) if hold_id in entries else None

    def _days_touched(
        self, entry: Interval | None, after: ResourceDay
    ) -> dict[DayKey, Interval | None]:
        """The slots of the services this resource serves that could meet the entry: by
        day, the starts whose padded slot overlaps it (the whole day when a daily limit
        makes every slot of the day depend on each booking)."""
        if entry is None:
            return {}
        resource = self.world.get(after.resource_id)
        if not isinstance(resource, Resource):
            return {}
        days: dict[DayKey, Interval | None] = {}
        for service, location in self._services_at(resource.location_id):
            state = resource.state(location.tz)
            definition = service.definition
            if not any(state.satisfies(q) for q in definition.requirements):
                continue
            reach = Interval(
                entry.start - definition.duration - definition.buffer_after,
                entry.end + definition.buffer_before,
            )
            limited = (
                definition.max_per_day_per_resource is not None
                or definition.max_per_day_per_location is not None
            )
            for day in dates_touched(reach, location.tz):
                key = DayKey(service.tenant_id, service.id, location.id, day)
                _widen(days, {key: None if limited else reach})
        return days

    def _days_of_catalog_change(self, item: Location | Resource | Service) -> set[DayKey]:
        """Every bookable day of every service the changed item can affect."""
        if isinstance(item, Service):
            return set(self._service_days(item))
        location_id = item.id if isinstance(item, Location) else item.location_id
        return {
            key
            for service, _ in self._services_at(location_id)
            for key in self._service_days(service)
        }

    def _service_days(self, service: Service) -> list[DayKey]:
        location = self.world.get(service.location_id)
        if not isinstance(location, Location) or service.retired:
            return []
        tz = location.tz
        first = local_date_of(self.clock(), tz)
        last = last_bookable_date(service.definition, self.clock(), tz)
        return [
            DayKey(service.tenant_id, service.id, location.id, first + timedelta(days=n))
            for n in range((last - first).days + 1)
        ]

    def _services_at(self, location_id: UUID) -> Iterable[tuple[Service, Location]]:
        location = self.world.get(location_id)
        roster = self.world.get(Roster.create_id(location_id))
        if not isinstance(location, Location) or not isinstance(roster, Roster):
            return []
        services = [self.world.get(service_id) for service_id in roster.service_ids]
        return [(s, location) for s in services if isinstance(s, Service) and not s.retired]

    # --- recomputing a day -----------------------------------------------------------

    def _compute(
        self, key: DayKey, now: datetime, starting_within: Interval | None = None
    ) -> tuple[ServiceDefinition | None, list[Any]]:
        service = self.world.get(key.service_id)
        location = self.world.get(key.location_id)
        roster = self.world.get(Roster.create_id(key.location_id))
        if not (
            isinstance(service, Service)
            and isinstance(location, Location)
            and isinstance(roster, Roster)
        ):
            return None, []
        definition = service.definition
        resources: list[ResourceState] = []
        for resource_id in roster.resource_ids:
            resource = self.world.get(resource_id)
            if isinstance(resource, Resource) and not resource.retired:
                state = resource.state(location.tz)
                if any(state.satisfies(q) for q in definition.requirements):
                    resources.append(state)
        wanted = {
            (state.resource_id, day): ResourceDay.create_id(state.resource_id, day)
            for state in resources
            for day in (key.day + timedelta(days=offset) for offset in (-1, 0, 1))
        }
        self.world.prefetch(wanted.values())
        calendars: dict[tuple[UUID, date], ResourceDay] = {}
        for resource_day, calendar_id in wanted.items():
            calendar = self.world.get(calendar_id)
            if isinstance(calendar, ResourceDay):
                calendars[resource_day] = calendar
        slots = day_slots(
            definition,
            key.day,
            resources,
            calendars,
            now,
            location.tz,
            self.limited_threshold,
            starting_within,
        )
        return definition, slots


def _changes_occupancy(event: Any) -> bool:
    """Whether a calendar event can change what is free. Allocating a hold does not:
    only a live hold can be allocated, and a live hold already occupies its time — so
    a confirmation recomputes no slot (half of a booking's recomputing, measured)."""
    return isinstance(event, ResourceDay.Event) and not isinstance(event, ResourceDay.Allocated)


def _widen(days: dict[DayKey, Interval | None], more: dict[DayKey, Interval | None]) -> None:
    """Merge what must be recomputed: the hull of two windows, or the whole day."""
    for key, window in more.items():
        if key not in days:
            days[key] = window
        elif days[key] is not None:
            known = days[key]
            days[key] = (
                None
                if window is None or known is None
                else Interval(min(known.start, window.start), max(known.end, window.end))
            )


def _order(key: DayKey) -> tuple[str, str, date]:
    return (str(key.service_id), str(key.location_id), key.day)
