"""Two-way sync with an external calendar, as rules: which blocks a pull makes, which
events are ours, when a failed sync is tried again.

A resource linked to a calendar gets one block (``TimeOff`` with ``source`` =
:data:`CALENDAR_SOURCE`) per busy time of each external event, marked with the event's
UID; a pull replaces exactly the blocks of the events it reports changed or deleted
(or, after a full listing, all of them) and never touches time off entered by hand.
Bookings written to the calendar carry a UID derived from the booking id
(:func:`booking_uid`), so a retry overwrites the same event and the next pull does not
read our own bookings back as busy time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from slotline.availability.domain.values import Interval, TimeOff

CALENDAR_SOURCE = "calendar"
"""``TimeOff.source`` of a block made by a calendar pull."""

BOOKING_UID_PREFIX = "slotline-booking-"
BOOKING_UID_DOMAIN = "@slotline"


def booking_uid(booking_id: str) -> str:
    """The iCalendar UID of a booking's event: the same for every write of that booking."""
    return f"{BOOKING_UID_PREFIX}{booking_id}{BOOKING_UID_DOMAIN}"


def is_ours(uid: str) -> bool:
    """An event Slotline wrote (a booking): never read back as busy time."""
    return uid.startswith(BOOKING_UID_PREFIX) and uid.endswith(BOOKING_UID_DOMAIN)


@dataclass(frozen=True)
class Pulled:
    """What one pull read from a calendar.

    ``full``: the calendar was listed whole (first sync, or the sync token expired), so
    every block of an event not in ``busy`` goes. Otherwise ``busy`` holds the events
    changed since the last token and ``removed`` the UIDs of those deleted.
    """

    full: bool
    busy: Mapping[str, tuple[Interval, ...]] = field(default_factory=dict)
    removed: frozenset[str] = frozenset()


def synced(time_off: Iterable[TimeOff]) -> tuple[TimeOff, ...]:
    """The blocks a calendar sync made, without the time off entered by hand."""
    return tuple(t for t in time_off if t.source == CALENDAR_SOURCE)


def entered(time_off: Iterable[TimeOff]) -> tuple[TimeOff, ...]:
    """The time off entered by hand (a calendar's blocks left out)."""
    return tuple(t for t in time_off if t.source != CALENDAR_SOURCE)


def blocks_after(time_off: Iterable[TimeOff], pulled: Pulled) -> tuple[TimeOff, ...]:
    """A resource's time off once ``pulled`` is applied: time off entered by hand stays,
    each changed event's blocks are replaced by its busy times, a deleted event's go,
    and after a full listing only the listed events' blocks remain. Our own bookings
    never become blocks. Deterministic, so applying one pull twice changes nothing."""
    current = tuple(time_off)
    replaced = set(pulled.busy) | set(pulled.removed)
    kept = tuple(
        t
        for t in current
        if t.source != CALENDAR_SOURCE or (not pulled.full and t.external_uid not in replaced)
    )
    new = tuple(
        TimeOff(interval, CALENDAR_SOURCE, uid)
        for uid in sorted(pulled.busy)
        if not is_ours(uid)
        for interval in sorted(set(pulled.busy[uid]), key=lambda i: (i.start, i.end))
    )
    return (*kept, *new)


class Health(StrEnum):
    PENDING = "pending"  # linked, not synced yet
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"  # the last attempt failed; it is tried again (backoff)


def retry_delay(failures: int, interval: timedelta, ceiling: timedelta) -> timedelta:
    """How long after its ``failures``-th failure in a row a sync is tried again: the
    sync interval doubled each time, at most ``ceiling`` — never given up."""
    if failures <= 0:
        return interval
    doubled: timedelta = interval * (2 ** min(failures, 20))
    return min(doubled, max(ceiling, interval))
