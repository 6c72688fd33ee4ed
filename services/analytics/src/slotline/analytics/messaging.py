"""Kafka side of the analytics service: it consumes public topics and publishes nothing.

Each consumed event is merged into the fact records in the inbox's unit of work, with
its tracking record, so a redelivered or replayed event changes nothing. Events the
KPIs do not use are tracked all the same (the position moves on).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slotline.analytics.application import AnalyticsApplication
from slotline.analytics.domain.facts import FactRow, Merge
from slotline.events.contract import (
    booking,
    booking_requests,
    callbacks,
    calls,
    notifications,
    waitlist,
)
from slotline.events.envelope import Message
from slotline.events.publishing import Publisher
from slotline.events.runtime import Subscription
from slotline.events.subscription import Handler, Identity
from slotline.events.topics import (
    BOOKING_EVENTS,
    BOOKING_REQUESTS,
    CALLS_EVENTS,
    NOTIFICATIONS_EVENTS,
)
from slotline.events.unit_of_work import UnitOfWork

TOPICS = (BOOKING_REQUESTS, BOOKING_EVENTS, CALLS_EVENTS, NOTIFICATIONS_EVENTS)

E, L, F = Merge.EARLIEST, Merge.LATEST, Merge.FIRST


def publisher(application: AnalyticsApplication) -> Publisher:
    """Analytics publishes nothing of its own: an empty table."""
    return Publisher()


def subscriptions(application: AnalyticsApplication) -> Sequence[Subscription]:
    """Relayed topics are de-duplicated by stream and sequence; ``booking.requests.v1``
    is written by channels, which cannot know a stream position: by each message's id."""
    handler = record_facts(application)
    return tuple(
        Subscription(
            topic,
            handlers={Message: handler},
            identity=Identity.MESSAGE if topic == BOOKING_REQUESTS else Identity.STREAM,
        )
        for topic in TOPICS
    )


def record_facts(app: AnalyticsApplication) -> Handler:
    """Every message of the topics: what it tells, recorded in the inbox's unit of work."""

    def apply(message: Message, work: UnitOfWork) -> None:
        app.record(facts_of(message), work)

    return apply


def facts_of(message: Message) -> list[FactRow]:
    """What one public event tells about requests, bookings, calls and callback tasks."""
    t, at = message.tenant_id, message.occurred_at
    match message:
        case booking_requests.BookingRequested():
            return [
                _request(t, message.request_id, requested_at=(at, E), channel=(message.channel, L))
            ]
        case booking.BookingHeld():
            return [
                *_linked_request(message, channel=(message.channel, F)),
                _booking(
                    t,
                    message.booking_id,
                    request_id=(message.request_id, F),
                    channel=(message.channel, F),
                    **_slot(message),
                ),
            ]
        case booking.BookingConfirmed():
            return [
                *_linked_request(message, channel=(message.channel, F)),
                _booking(
                    t,
                    message.booking_id,
                    confirmed_at=(at, E),
                    request_id=(message.request_id, F),
                    channel=(message.channel, F),
                    **_slot(message),
                ),
            ]
        case booking.BookingRejected():
            if message.channel is None:  # published before the field existed
                return _linked_request(message)
            return _linked_request(message, channel=(message.channel, F))
        case booking.BookingRescheduled():
            return [
                _booking(
                    t,
                    message.booking_id,
                    slot_start=(message.slot.start, L),
                    slot_end=(message.slot.end, L),
                    resource_ids=(message.resource_ids, L),
                )
            ]
        case booking.BookingCancelled():
            late = not message.within_free_window
            return [_booking(t, message.booking_id, cancelled_at=(at, E), cancelled_late=(late, F))]
        case booking.BookingCompleted():
            return [_booking(t, message.booking_id, completed_at=(at, E))]
        case booking.BookingNoShow():
            return [_booking(t, message.booking_id, no_show_at=(at, E))]
        case calls.CallReceived():
            return [("call", _key(t, call_id=message.call_id), {"received_at": (at, E)})]
        case calls.CallMissed():
            return [("call", _key(t, call_id=message.call_id), {"missed_at": (at, E)})]
        case notifications.TextBackRequested():
            return [("call", _key(t, call_id=message.call_id), {"texted_back_at": (at, E)})]
        case callbacks.CallbackTaskCreated():
            return [
                _task(
                    t,
                    message.task_id,
                    created_at=(at, E),
                    call_id=(message.call_id, F),
                    deadline=(message.deadline, L),
                )
            ]
        case callbacks.CallbackAttemptRecorded():
            return [_task(t, message.task_id, first_attempt_at=(at, E))]
        case callbacks.CallbackTaskClosed():
            return [_task(t, message.task_id, closed_at=(at, E))]
        case waitlist.WaitlistJoined():
            return [_entry(message, joined_at=(at, E))]
        case waitlist.WaitlistOffered():
            return [
                _entry(message, offered_at=(at, E)),
                _offer(message, offered_at=(at, E), **_freeing(message)),
            ]
        case waitlist.WaitlistClaimed():
            return [
                _entry(message, claimed_at=(at, E)),
                _offer(message, claimed_at=(at, E), **_freeing(message)),
            ]
        case waitlist.WaitlistPassed():
            return [_entry(message, passed_at=(at, E)), _offer(message, passed_at=(at, E))]
        case waitlist.WaitlistLeft():
            return [_entry(message, left_at=(at, E))]
    return []


def _key(tenant_id: str, **key: str) -> dict[str, str]:
    return {"tenant_id": tenant_id, **key}


def _request(tenant_id: str, request_id: str, **values: tuple[Any, Merge]) -> FactRow:
    return ("booking_request", _key(tenant_id, request_id=request_id), values)


def _booking(tenant_id: str, booking_id: str, **values: tuple[Any, Merge]) -> FactRow:
    return ("booking", _key(tenant_id, booking_id=booking_id), values)


def _task(tenant_id: str, task_id: str, **values: tuple[Any, Merge]) -> FactRow:
    return ("callback_task", _key(tenant_id, task_id=task_id), values)


def _entry(message: waitlist.WaitlistEvent, **values: tuple[Any, Merge]) -> FactRow:
    key = _key(message.tenant_id, entry_id=message.entry_id)
    return ("waitlist_entry", key, {"service_id": (message.service_id, F), **values})


def _offer(
    message: waitlist.WaitlistOffered | waitlist.WaitlistClaimed | waitlist.WaitlistPassed,
    **values: tuple[Any, Merge],
) -> FactRow:
    """The offer (its booking) of a freed slot to a place in a line."""
    key = _key(message.tenant_id, booking_id=message.booking_id)
    line = {
        "entry_id": (message.entry_id, F),
        "service_id": (message.service_id, F),
        "location_id": (message.location_id, F),
    }
    return ("waitlist_offer", key, {**line, **values})


def _freeing(
    message: waitlist.WaitlistOffered | waitlist.WaitlistClaimed,
) -> dict[str, tuple[Any, Merge]]:
    """Which slot, freed when and by what: the same on every offer of one freeing."""
    by = message.slot_freed_by
    return {
        "slot_start": (message.slot.start, L),
        "slot_freed_at": (message.slot_freed_at, E),
        "slot_freed_by": (by.value if by is not None else None, F),
        "freed_booking_id": (message.freed_booking_id, F),
    }


def _linked_request(message: booking.BookingEvent, **values: tuple[Any, Merge]) -> list[FactRow]:
    """The request a booking outcome answers (its moment is the earliest known)."""
    if message.request_id is None:
        return []
    return [
        _request(
            message.tenant_id,
            message.request_id,
            requested_at=(message.occurred_at, E),
            booking_id=(message.booking_id, F),
            **values,
        )
    ]


def _slot(message: booking.BookingHeld | booking.BookingConfirmed) -> dict[str, tuple[Any, Merge]]:
    return {
        "slot_start": (message.slot.start, L),
        "slot_end": (message.slot.end, L),
        "time_zone": (message.time_zone, L),
        "resource_ids": (message.resource_ids, L),
    }
