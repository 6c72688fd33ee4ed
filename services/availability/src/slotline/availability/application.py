"""The availability service's use cases: catalog changes and holds.

The hold use cases are here; what they read to decide (a service's definition, the
resources, their calendars, slots and alternatives) is :mod:`.slot_finding`, the
calendars as a use case holds them :mod:`.calendars`, the catalog :mod:`.catalog_admin`.

A hold is placed in one unit of work over the ``Hold`` and every ``ResourceDay`` it
touches. Holds applied together (a batch of commands) share the work, so the second
sees the first's reservation in memory; two units of work racing for a resource day
meet at that stream's version, and the loser is redone on fresh state (bounded). No
lock, global or otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from slotline.availability.calendars import WithoutHold, days_in
from slotline.availability.catalog_admin import UnknownItem
from slotline.availability.domain.assignment import find_assignment
from slotline.availability.domain.calendar import ResourceDay
from slotline.availability.domain.catalog import Location, Resource, Service
from slotline.availability.domain.hold import Hold, HoldAsk, HoldExpired, HoldStatus
from slotline.availability.domain.refusal import HoldRefusal
from slotline.availability.domain.roster import Roster
from slotline.availability.domain.rules import RejectionReason
from slotline.availability.domain.values import Interval
from slotline.availability.slot_finding import SlotFinding, UnknownService
from slotline.events.unit_of_work import UnitOfWork

__all__ = [
    "DEFAULT_HOLD_TTL",
    "AvailabilityApplication",
    "HoldRefused",
    "HoldRequest",
    "HoldTaken",
    "UnknownService",
]

DEFAULT_HOLD_TTL = timedelta(minutes=10)


@dataclass(frozen=True)
class HoldRequest:
    """What a caller asks availability to hold."""

    tenant_id: str
    hold_key: str  # the caller's id for the hold: the same key never holds twice
    service_id: UUID
    location_id: UUID
    start: datetime
    seats: int = 1
    ttl: timedelta = DEFAULT_HOLD_TTL
    preferred_staff_id: UUID | None = None
    booking_request_id: str | None = None
    offered_only: bool = False  # a customer's: only a start the slot list offers
    confirm: bool = False  # nothing is due first: the hold is an allocation at once

    def ask(self, slot: Interval) -> HoldAsk:
        """What this request asks of the hold key, for ``slot``."""
        return HoldAsk(
            self.tenant_id,
            self.hold_key,
            self.service_id,
            self.location_id,
            slot,
            self.booking_request_id,
        )


@dataclass(frozen=True)
class HoldTaken:
    hold_id: UUID
    slot: Interval
    resource_ids: tuple[UUID, ...]
    expires_at: datetime | None  # None once confirmed: an allocation does not expire


@dataclass(frozen=True)
class HoldRefused:
    reason: RejectionReason
    alternatives: list[Interval]  # nearest bookable slots, closest first


class AvailabilityApplication(SlotFinding):
    """Owns the availability event store (locations, resources, services, holds)."""

    name = "availability"
    long_lived = (ResourceDay, Roster, Location, Resource, Service)
    """Every hold reads its resources' days and the catalogue, and a day missed in the
    cache is replayed from all its events: with them in the small cache the api used
    13.3 against 7.4 ms of CPU a booking in a five-minute run at 40 bookings/s. A hold
    is read again only within its saga."""

    # --- holds -------------------------------------------------------------------
    #
    # Every hold use case acts in a unit of work: alone (its own transaction, retried on
    # a lost race) or, given ``work``, inside a group's (the inbox applies a batch of hold
    # commands in one; two of them on one resource day meet in memory, not in a race).

    def place_hold(
        self, request: HoldRequest, record_refusal: bool = False, work: UnitOfWork | None = None
    ) -> HoldTaken | HoldRefused:
        """Hold every resource the service needs at ``request.start``, or say why not.

        A hold key seen before gets the first answer again (requests are retried).
        ``record_refusal`` stores a refusal too, so it is published and remembered.
        """
        return self.in_work(work, lambda w: self._place(w, request, record_refusal))

    def _place(
        self, work: UnitOfWork, request: HoldRequest, record_refusal: bool
    ) -> HoldTaken | HoldRefused:
        hold_id = Hold.create_id(request.tenant_id, request.hold_key)
        # One query for the hold (a repeat?) and the catalogue a new one needs: the
        # location, the service and the location's roster would be three more, one by one
        # (a quarter of a hold's statements; cProfile of 300 holds on a demo clinic).
        catalogue = [request.location_id, Service.create_id(request.service_id)]
        existing = work.get_many([hold_id, *catalogue, Roster.create_id(request.location_id)]).get(
            hold_id
        )
        if isinstance(existing, Hold):
            return _taken(existing)
        if isinstance(existing, HoldRefusal):
            return HoldRefused(existing.reason, existing.alternatives)
        now = self.clock()

        def refuse(reason: RejectionReason, alternatives: list[Interval]) -> HoldRefused:
            if record_refusal:
                work.add(
                    HoldRefusal.record(
                        request.ask(Interval(request.start, request.start + timedelta(minutes=1))),
                        reason=reason,
                        alternatives=alternatives,
                    )
                )
            return HoldRefused(reason, alternatives)

        try:
            location = self.location(request.tenant_id, request.location_id)
            definition = self._definition(request.service_id, request.tenant_id, location.id)
        except UnknownItem:
            if not record_refusal:
                raise
            return refuse(RejectionReason.UNKNOWN_SERVICE, [])
        resources = self._resources_at(location)
        if request.offered_only and not self._offered(
            definition, location, resources, request.start
        ):  # off the grid (10:07 of a 15-minute one): the nearest offered starts instead
            alternatives = self._alternatives(
                work, definition, location, resources, request.start, now
            )
            return refuse(RejectionReason.OUTSIDE_HOURS, alternatives)
        slot = definition.slot_at(request.start)
        calendars = self._calendars_for(work, definition, resources, slot, location)
        chosen = find_assignment(
            definition,
            slot,
            resources,
            calendars,
            now,
            seats=request.seats,
            preferred_staff_id=request.preferred_staff_id,
        )
        if isinstance(chosen, RejectionReason):
            alternatives = self._alternatives(
                work, definition, location, resources, request.start, now
            )
            return refuse(chosen, alternatives)
        hold = Hold.place(
            request.ask(slot),
            resource_ids=chosen,
            seats=request.seats,
            expires_at=now + request.ttl,
        )
        work.add(hold)
        days = calendars.reserve(chosen, hold, definition, location, now + request.ttl, now)
        if request.confirm:  # one step instead of a second command and its two hops
            hold.confirm_on_placing()
            _allocate(hold, days, now)
        return _taken(hold)

    def confirm_hold(self, hold_id: UUID, work: UnitOfWork | None = None) -> Hold:
        """The hold becomes an allocation (raises ``HoldExpired`` when too late)."""

        def confirm(hold: Hold, days: list[ResourceDay], now: datetime) -> None:
            hold.confirm(now)
            _allocate(hold, days, now)

        return self._change_hold(work, hold_id, confirm)

    def confirm_or_expire(self, hold_id: UUID, work: UnitOfWork | None = None) -> Hold:
        """Confirm for a caller that cannot be answered with an error (a command): a
        hold that ran out is expired instead, so the outcome is recorded and published."""

        def decide(hold: Hold, days: list[ResourceDay], now: datetime) -> None:
            try:
                hold.confirm(now)
            except HoldExpired:
                hold.expire(now)
                for day in days:
                    day.free(hold.id, "expired")
                return
            _allocate(hold, days, now)

        return self._change_hold(work, hold_id, decide)

    def release_hold(
        self, hold_id: UUID, reason: str = "released", work: UnitOfWork | None = None
    ) -> Hold:
        """A held slot is given back: the booking did not go ahead."""
        return self._free_hold(work, hold_id, lambda hold, _: hold.release(reason), reason)

    def cancel_allocation(
        self, hold_id: UUID, reason: str = "cancelled", work: UnitOfWork | None = None
    ) -> Hold:
        """A confirmed allocation is cancelled: its resources are free again."""
        return self._free_hold(work, hold_id, lambda hold, _: hold.cancel(reason), reason)

    def expire_hold(self, hold_id: UUID, work: UnitOfWork | None = None) -> Hold:
        """A hold whose time ran out gives its resources back."""
        return self._free_hold(work, hold_id, lambda hold, now: hold.expire(now), "expired")

    def reschedule_hold(
        self,
        hold_id: UUID,
        start: datetime,
        preferred_staff_id: UUID | None = None,
        record_refusal: bool = False,
        work: UnitOfWork | None = None,
        offered_only: bool = False,
    ) -> HoldTaken | HoldRefused:
        """Move a hold or allocation to ``start``, atomically: the new slot is reserved
        and the old one freed in one transaction, so the customer never loses the old
        slot without getting the new one. The move may overlap the old slot.
        ``record_refusal`` records a refused move on the hold (a command's sender hears
        of it from the published event). ``offered_only``: a customer's move, only to a
        start the slot list offers (staff may move anywhere the hours allow)."""

        def attempt(work: UnitOfWork) -> HoldTaken | HoldRefused:
            hold = self._hold_in(work, hold_id)
            now = self.clock()
            location = self._get(Location, hold.location_id)
            definition = self._definition(hold.service_id, hold.tenant_id, location.id)
            resources = self._resources_at(location)
            slot = definition.slot_at(start)
            if offered_only and not self._offered(definition, location, resources, start):
                alternatives = self._alternatives(work, definition, location, resources, start, now)
                if record_refusal:
                    hold.refuse_move(slot, RejectionReason.OUTSIDE_HOURS.value, alternatives)
                return HoldRefused(RejectionReason.OUTSIDE_HOURS, alternatives)
            calendars = self._calendars_for(work, definition, resources, slot, location)
            old_days = [(r, d) for r in hold.resource_ids for d in self._hold_dates(hold)]
            calendars.preload(old_days)
            chosen = find_assignment(  # decided as if the hold were not there yet
                definition,
                slot,
                resources,
                WithoutHold(calendars, hold.id),
                now,
                seats=hold.seats,
                preferred_staff_id=preferred_staff_id,
            )
            if isinstance(chosen, RejectionReason):
                alternatives = self._alternatives(work, definition, location, resources, start, now)
                if record_refusal:
                    hold.refuse_move(slot, chosen.value, alternatives)
                return HoldRefused(chosen, alternatives)
            for key in old_days:
                calendars[key].free(hold.id, "rescheduled")
            confirmed = hold.expires_at is None
            # A held hold keeps its expiry; an allocation's entries are allocated at once.
            entry_expiry = hold.expires_at or now + timedelta(minutes=1)
            hold.reschedule(slot, chosen, now)
            calendars.reserve(chosen, hold, definition, location, entry_expiry, now)
            if confirmed:
                for resource_id in chosen:
                    for day in self._hold_dates(hold):
                        calendars[(resource_id, day)].allocate(hold.id, now)
            return _taken(hold)

        return self.in_work(work, attempt)

    def _free_hold(
        self,
        work: UnitOfWork | None,
        hold_id: UUID,
        end: Callable[[Hold, datetime], None],
        reason: str,
    ) -> Hold:
        def free(hold: Hold, days: list[ResourceDay], now: datetime) -> None:
            end(hold, now)
            if hold.status in (HoldStatus.HELD, HoldStatus.CONFIRMED):
                return  # a late timer on a confirmed hold frees nothing
            for day in days:
                day.free(hold.id, reason)

        return self._change_hold(work, hold_id, free)

    def _change_hold(
        self,
        work: UnitOfWork | None,
        hold_id: UUID,
        change: Callable[[Hold, list[ResourceDay], datetime], None],
    ) -> Hold:
        """Apply ``change`` to a hold and its resource days, in one unit of work."""

        def attempt(work: UnitOfWork) -> Hold:
            hold = self._hold_in(work, hold_id)
            keys = [(r, d) for r in hold.resource_ids for d in self._hold_dates(hold)]
            days = days_in(work, keys)
            change(hold, [days[key] for key in keys], self.clock())
            return hold

        return self.in_work(work, attempt)

    def _hold_in(self, work: UnitOfWork, hold_id: UUID) -> Hold:
        hold = work.get(Hold, hold_id)
        if hold is None:
            raise UnknownItem(f"no hold {hold_id}")
        return hold


def _allocate(hold: Hold, days: list[ResourceDay], now: datetime) -> None:
    """A confirmed hold's entries on its resource days no longer expire."""
    for day in days:
        day.allocate(hold.id, now)


def _taken(hold: Hold) -> HoldTaken:
    return HoldTaken(hold.id, hold.slot, hold.resource_ids, hold.expires_at)
