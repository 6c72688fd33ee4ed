"""Kafka side of the availability service: what it publishes and what it consumes.

Publishes hold outcomes and catalog changes on ``availability.events.v1`` (through the
outbox relay); consumes booking's hold commands from ``availability.commands.v1``
through the idempotent inbox, and booking's ``booking.events.v1`` for the bookings
owed to linked calendars. Holds are keyed by the sender's ``hold_id``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any
from uuid import UUID

from slotline.availability.application import AvailabilityApplication, HoldRequest
from slotline.availability.calendar_sync.bookings import BOOKING_CHANGES, BookingsToCalendars
from slotline.availability.catalog_admin import UnknownItem
from slotline.availability.domain import codec
from slotline.availability.domain.catalog import Location, Resource, Service
from slotline.availability.domain.hold import Hold, InvalidTransition
from slotline.availability.domain.refusal import HoldRefusal
from slotline.availability.domain.values import Interval
from slotline.events.contract import availability as events
from slotline.events.contract import availability_catalog as catalog
from slotline.events.contract import availability_commands as commands
from slotline.events.contract.common import DateOverride as WireOverride
from slotline.events.contract.common import SlotOffer, TimeSlot, WeeklyRange
from slotline.events.envelope import Message
from slotline.events.inbox import Rejected
from slotline.events.publishing import Publisher
from slotline.events.runtime import Subscription
from slotline.events.topics import AVAILABILITY_COMMANDS, BOOKING_EVENTS
from slotline.events.unit_of_work import UnitOfWork

# --- publishing ------------------------------------------------------------------------


def publisher() -> Publisher:
    """What availability publishes, by event class, from the aggregate right after each
    event. Calendars and rosters are internal; so are location renames and service
    retirements (no public event yet)."""
    table = Publisher(Hold, HoldRefusal, Location, Resource, Service)

    @table.on(Hold.Placed)
    def placed(hold: Hold, _: Hold.Placed) -> Message:
        assert hold.expires_at is not None
        return events.HoldPlaced(
            **_hold_ids(hold),
            service_id=str(hold.service_id),
            location_id=str(hold.location_id),
            slot=_slot(hold.slot),
            resource_ids=_resources(hold),
            seats=hold.seats,
            expires_at=hold.expires_at,
        )

    @table.on(Hold.Confirmed, Hold.ConfirmedOnPlacing)
    def confirmed(hold: Hold, _: Hold.Confirmed | Hold.ConfirmedOnPlacing) -> Message:
        return events.HoldConfirmed(
            **_hold_ids(hold), slot=_slot(hold.slot), resource_ids=_resources(hold)
        )

    @table.on(Hold.Released)
    def released(hold: Hold, _: Hold.Released) -> Message:
        return events.HoldReleased(**_hold_ids(hold))

    @table.on(Hold.Expired)
    def expired(hold: Hold, _: Hold.Expired) -> Message:
        return events.HoldExpired(**_hold_ids(hold))

    @table.on(Hold.Cancelled)
    def cancelled(hold: Hold, _: Hold.Cancelled) -> Message:
        return events.AllocationCancelled(**_hold_ids(hold))

    @table.on(Hold.Rescheduled)
    def rescheduled(hold: Hold, _: Hold.Rescheduled) -> Message:
        return events.HoldRescheduled(
            **_hold_ids(hold),
            previous_slot=_slot(hold.moved_from or hold.slot),
            slot=_slot(hold.slot),
            resource_ids=_resources(hold),
        )

    @table.on(Hold.MoveRefused)
    def move_refused(hold: Hold, refused: Hold.MoveRefused) -> Message:
        return _move_refused(hold, refused)

    @table.on(HoldRefusal.Recorded)
    def refused(refusal: HoldRefusal, _: HoldRefusal.Recorded) -> Message:
        return events.HoldRejected(
            tenant_id=refusal.tenant_id,
            aggregate_id=refusal.hold_key,
            hold_id=refusal.hold_key,
            request_id=refusal.booking_request_id,
            service_id=str(refusal.service_id),
            slot=_slot(refusal.slot),
            reason=refusal.reason.value,
            alternatives=[SlotOffer(slot=_slot(a)) for a in refusal.alternatives],
        )

    @table.on(Location.Registered)
    def location_registered(location: Location, _: Location.Registered) -> Message:
        return catalog.LocationRegistered(
            tenant_id=location.tenant_id,
            aggregate_id=str(location.id),
            location_id=str(location.id),
            name=location.name,
            time_zone=location.timezone,
        )

    @table.on(Resource.Registered)
    def resource_registered(resource: Resource, _: Resource.Registered) -> Message:
        return catalog.ResourceRegistered(**_resource_ids(resource), **_profile(resource))

    @table.on(Resource.Updated)
    def resource_updated(resource: Resource, _: Resource.Updated) -> Message:
        return catalog.ResourceUpdated(**_resource_ids(resource), **_profile(resource))

    @table.on(Resource.Retired)
    def resource_retired(resource: Resource, _: Resource.Retired) -> Message:
        return catalog.ResourceRetired(**_resource_ids(resource))

    @table.on(Resource.ScheduleChanged)
    def schedule_changed(resource: Resource, _: Resource.ScheduleChanged) -> Message:
        return _schedule_changed(resource)

    @table.on(Service.Registered, Service.Updated)
    def service_defined(service: Service, _: Any) -> Message:
        return _service_defined(service)

    return table


def _slot(interval: Interval) -> TimeSlot:
    return TimeSlot(start=interval.start, end=interval.end)


def _hold_ids(hold: Hold) -> dict[str, Any]:
    return {
        "tenant_id": hold.tenant_id,
        "aggregate_id": hold.hold_key,
        "hold_id": hold.hold_key,
        "request_id": hold.booking_request_id,
    }


def _resources(hold: Hold) -> list[str]:
    return [str(r) for r in hold.resource_ids]


def _move_refused(hold: Hold, refused: Hold.MoveRefused) -> Message:
    return events.HoldRescheduleRefused(
        tenant_id=hold.tenant_id,
        aggregate_id=hold.hold_key,
        hold_id=hold.hold_key,
        request_id=hold.booking_request_id,
        slot=TimeSlot(start=refused.slot_start, end=refused.slot_end),
        reason=refused.reason,
        alternatives=[SlotOffer(slot=TimeSlot(start=s, end=e)) for s, e in refused.alternatives],
    )


def _resource_ids(resource: Resource) -> dict[str, Any]:
    return {
        "tenant_id": resource.tenant_id,
        "aggregate_id": str(resource.id),
        "resource_id": str(resource.id),
    }


def _profile(resource: Resource) -> dict[str, Any]:
    return {
        "location_id": str(resource.location_id),
        "kind": resource.kind.value,
        "name": resource.name,
        "tags": sorted(resource.tags),
    }


def _schedule_changed(resource: Resource) -> Message:
    return catalog.ScheduleChanged(
        **_resource_ids(resource),
        weekly=[
            WeeklyRange(weekday=day, start=start.strftime("%H:%M"), end=_hhmm_end(end))
            for day, ranges in enumerate(resource.weekly.days)
            for start, end in ranges
        ],
        overrides=[
            WireOverride(
                day=o.date,
                ranges=[(s.strftime("%H:%M"), _hhmm_end(e)) for s, e in o.ranges],
            )
            for o in resource.overrides
        ],
        time_off=[_slot(t.interval) for t in resource.time_off],
    )


def _hhmm_end(end: Any) -> str:
    """Local end times; midnight as an end is the day's end, 24:00."""
    text: str = end.strftime("%H:%M")
    return "24:00" if text == "00:00" else text


def _service_defined(service: Service) -> Message:
    terms = codec.terms_to_data(service.definition)

    def minutes(delta: timedelta) -> int:
        return int(delta.total_seconds() // 60)

    d = service.definition
    return catalog.ServiceDefined(
        tenant_id=service.tenant_id,
        aggregate_id=str(service.id),
        service_id=str(service.id),
        location_id=str(service.location_id),
        name=service.name,
        duration_minutes=minutes(d.duration),
        buffer_before_minutes=minutes(d.buffer_before),
        buffer_after_minutes=minutes(d.buffer_after),
        requirements=[
            catalog.Requirement(kind=q.kind.value, tags=sorted(q.tags), count=q.count)
            for q in d.requirements
        ],
        capacity=d.capacity,
        minimum_notice_minutes=minutes(d.minimum_notice),
        booking_horizon_days=max(1, d.booking_horizon.days),
        slot_interval_minutes=minutes(d.slot_interval),
        max_per_day_per_resource=d.max_per_day_per_resource,
        max_per_day_per_location=d.max_per_day_per_location,
        price_tier=str(terms.get("price_tier", d.price_tier)),
    )


# --- consuming ---------------------------------------------------------------------------


def subscriptions(application: AvailabilityApplication) -> Sequence[Subscription]:
    """Hold commands from booking, each applied exactly once; a batch of them shares one
    unit of work (holds on one resource day are decided in memory, in arrival order).
    Booking's confirmations, moves and cancellations, owed to linked calendars."""
    handle = hold_commands(application)
    calendars = BookingsToCalendars(application.schema)
    return (
        Subscription(
            AVAILABILITY_COMMANDS,
            handlers=dict.fromkeys(HOLD_COMMANDS, handle),
            reads=_commanded_hold,
        ),
        # Bookings written to their resources' linked calendars (calendar_sync).
        Subscription(BOOKING_EVENTS, handlers=dict.fromkeys(BOOKING_CHANGES, calendars.handle)),
    )


def _commanded_hold(message: Message) -> list[UUID]:
    """Every hold command names its hold (a new one's id is derived from its key): a
    batch loads them all in one query."""
    command: Any = message  # one of HOLD_COMMANDS, each with a hold_id
    if isinstance(message, HOLD_COMMANDS):
        return [Hold.create_id(message.tenant_id, command.hold_id)]
    return []


HOLD_COMMANDS: tuple[type[Message], ...] = (
    commands.PlaceHold,
    commands.ConfirmHold,
    commands.ReleaseHold,
    commands.CancelAllocation,
    commands.RescheduleHold,
)


def hold_commands(app: AvailabilityApplication) -> Callable[[Message, UnitOfWork], None]:
    """Applies one hold command in the batch's unit of work; its outcome (a hold, a
    refusal, a refused move) is recorded there and published by the relay."""

    def apply(message: Message, work: UnitOfWork) -> None:
        try:
            _apply(app, message, work)
        except (UnknownItem, InvalidTransition, ValueError) as error:
            raise Rejected(f"{type(error).__name__}: {error}") from error

    return apply


def _apply(app: AvailabilityApplication, message: Message, work: UnitOfWork) -> None:
    tenant = message.tenant_id
    match message:
        case commands.PlaceHold():
            request = HoldRequest(
                tenant_id=tenant,
                hold_key=message.hold_id,
                service_id=_uuid(message.service_id, "service_id"),
                location_id=_uuid(message.location_id, "location_id"),
                start=message.slot_start,
                seats=message.seats,
                ttl=timedelta(seconds=message.ttl_seconds),
                preferred_staff_id=_optional_uuid(message.preferred_resource_id),
                booking_request_id=message.request_id,
                offered_only=message.offered_only,
                confirm=message.confirm,
            )
            app.place_hold(request, record_refusal=True, work=work)
        case commands.ConfirmHold():
            app.confirm_or_expire(Hold.create_id(tenant, message.hold_id), work=work)
        case commands.ReleaseHold():
            app.release_hold(Hold.create_id(tenant, message.hold_id), message.reason, work=work)
        case commands.CancelAllocation():
            hold_id = Hold.create_id(tenant, message.hold_id)
            app.cancel_allocation(hold_id, message.reason, work=work)
        case commands.RescheduleHold():
            app.reschedule_hold(
                Hold.create_id(tenant, message.hold_id),
                message.slot.start,
                _optional_uuid(message.preferred_resource_id),
                record_refusal=True,  # the refusal is recorded on the hold and published
                work=work,
                offered_only=message.offered_only,
            )
        case _:
            raise Rejected(f"availability does not handle {message.event_type}")


def _uuid(value: str, field: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise ValueError(f"{field} {value!r} is not a UUID") from None


def _optional_uuid(value: str | None) -> UUID | None:
    return None if value is None else _uuid(value, "preferred_resource_id")
