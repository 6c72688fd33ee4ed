"""Kafka side of the availability service: what it publishes and what it consumes.

Publishes hold outcomes and catalog changes on ``availability.events.v1`` (through the
outbox relay); consumes booking's hold commands from ``availability.commands.v1``
through the idempotent inbox. Holds are keyed by the sender's ``hold_id``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any
from uuid import UUID

from slotline.availability.application import AvailabilityApplication, HoldRequest
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
from slotline.events.relay import IntegrationMapper
from slotline.events.runtime import Subscription
from slotline.events.store import ServiceApplication
from slotline.events.topics import AVAILABILITY_COMMANDS
from slotline.events.unit_of_work import UnitOfWork

# --- publishing ------------------------------------------------------------------------


def publisher(application: ServiceApplication) -> IntegrationMapper:
    """Maps each stored event to its public event, from the aggregate at that version."""

    def publish(domain_event: Any) -> Message | None:
        topic = type(domain_event).__qualname__
        if not topic.startswith(("Hold.", "HoldRefusal.", "Location.", "Resource.", "Service.")):
            return None  # calendars and rosters are internal
        aggregate: Any = application.repository.get(
            domain_event.originator_id, version=domain_event.originator_version
        )
        name = topic.split(".", 1)[1]
        if name == "MoveRefused":
            return _move_refused(aggregate, domain_event)
        if name == "Rescheduled":
            before: Any = application.repository.get(
                domain_event.originator_id, version=domain_event.originator_version - 1
            )
            return _hold_event(aggregate, name, previous_slot=before.slot)
        return _public(aggregate, name)

    return publish


def _slot(interval: Interval) -> TimeSlot:
    return TimeSlot(start=interval.start, end=interval.end)


def _public(aggregate: Any, name: str) -> Message | None:
    if isinstance(aggregate, Hold):
        return _hold_event(aggregate, name)
    if isinstance(aggregate, HoldRefusal):
        return events.HoldRejected(
            tenant_id=aggregate.tenant_id,
            aggregate_id=aggregate.hold_key,
            hold_id=aggregate.hold_key,
            request_id=aggregate.booking_request_id,
            service_id=str(aggregate.service_id),
            slot=_slot(aggregate.slot),
            reason=aggregate.reason.value,
            alternatives=[SlotOffer(slot=_slot(a)) for a in aggregate.alternatives],
        )
    if isinstance(aggregate, Location) and name == "Registered":
        return catalog.LocationRegistered(
            tenant_id=aggregate.tenant_id,
            aggregate_id=str(aggregate.id),
            location_id=str(aggregate.id),
            name=aggregate.name,
            time_zone=aggregate.timezone,
        )
    if isinstance(aggregate, Resource):
        return _resource_event(aggregate, name)
    if isinstance(aggregate, Service) and name in {"Registered", "Updated"}:
        return _service_defined(aggregate)
    return None  # location renames and service retirements have no public event yet


def _hold_event(hold: Hold, name: str, previous_slot: Interval | None = None) -> Message | None:
    common: dict[str, Any] = {
        "tenant_id": hold.tenant_id,
        "aggregate_id": hold.hold_key,
        "hold_id": hold.hold_key,
        "request_id": hold.booking_request_id,
    }
    resources = [str(r) for r in hold.resource_ids]
    match name:
        case "Placed":
            assert hold.expires_at is not None
            return events.HoldPlaced(
                **common,
                service_id=str(hold.service_id),
                location_id=str(hold.location_id),
                slot=_slot(hold.slot),
                resource_ids=resources,
                seats=hold.seats,
                expires_at=hold.expires_at,
            )
        case "Confirmed":
            return events.HoldConfirmed(**common, slot=_slot(hold.slot), resource_ids=resources)
        case "Released":
            return events.HoldReleased(**common)
        case "Expired":
            return events.HoldExpired(**common)
        case "Cancelled":
            return events.AllocationCancelled(**common)
        case "Rescheduled":
            return events.HoldRescheduled(
                **common,
                previous_slot=_slot(previous_slot or hold.slot),
                slot=_slot(hold.slot),
                resource_ids=resources,
            )
    return None


def _move_refused(hold: Hold, refused: Any) -> Message:
    return events.HoldRescheduleRefused(
        tenant_id=hold.tenant_id,
        aggregate_id=hold.hold_key,
        hold_id=hold.hold_key,
        request_id=hold.booking_request_id,
        slot=TimeSlot(start=refused.slot_start, end=refused.slot_end),
        reason=refused.reason,
        alternatives=[SlotOffer(slot=TimeSlot(start=s, end=e)) for s, e in refused.alternatives],
    )


def _resource_event(resource: Resource, name: str) -> Message | None:
    common: dict[str, Any] = {
        "tenant_id": resource.tenant_id,
        "aggregate_id": str(resource.id),
        "resource_id": str(resource.id),
    }
    profile: dict[str, Any] = {
        "location_id": str(resource.location_id),
        "kind": resource.kind.value,
        "name": resource.name,
        "tags": sorted(resource.tags),
    }
    match name:
        case "Registered":
            return catalog.ResourceRegistered(**common, **profile)
        case "Updated":
            return catalog.ResourceUpdated(**common, **profile)
        case "Retired":
            return catalog.ResourceRetired(**common)
        case "ScheduleChanged":
            return catalog.ScheduleChanged(
                **common,
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
    return None


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


def subscriptions(application: ServiceApplication) -> Sequence[Subscription]:
    """Hold commands from booking, each applied exactly once; a batch of them shares one
    unit of work (holds on one resource day are decided in memory, in arrival order)."""
    if not isinstance(application, AvailabilityApplication):
        return ()
    handle = hold_commands(application)
    return (Subscription(AVAILABILITY_COMMANDS, handlers=dict.fromkeys(HOLD_COMMANDS, handle)),)


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
