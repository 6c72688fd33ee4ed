"""What the analytics service knows: one fact record per request, booking, call, task,
waitlist place and waitlist offer.

Each record is assembled from several public events that may arrive in any order
(they come on different topics and keys), so every field but the id is optional.
Times are when things happened (the events' ``occurred_at``), never when they were read,
so a replayed topic gives the same figures.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Period:
    """The half-open interval ``[start, end)`` a report covers."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("a period must end after it starts")

    def __contains__(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end


@dataclass(frozen=True)
class RequestFact:
    """A booking request and whether it became a booking."""

    request_id: str
    channel: str | None
    requested_at: datetime | None
    confirmed_at: datetime | None = None


@dataclass(frozen=True)
class BookingFact:
    """A booking's life: when it was confirmed, for when, and how it ended."""

    booking_id: str
    confirmed_at: datetime | None = None
    slot_start: datetime | None = None
    slot_end: datetime | None = None
    time_zone: str | None = None
    resource_ids: tuple[str, ...] = ()
    cancelled_at: datetime | None = None
    cancelled_late: bool = False
    completed_at: datetime | None = None
    no_show_at: datetime | None = None


@dataclass(frozen=True)
class CallFact:
    """An inbound call: received, missed, texted back."""

    call_id: str
    received_at: datetime | None = None
    missed_at: datetime | None = None
    texted_back_at: datetime | None = None


@dataclass(frozen=True)
class CallbackFact:
    """A callback task (a lead to call back) and when someone first acted on it."""

    task_id: str
    created_at: datetime | None = None
    lead_at: datetime | None = None
    deadline: datetime | None = None
    first_attempt_at: datetime | None = None
    closed_at: datetime | None = None

    @property
    def answered_at(self) -> datetime | None:
        """First attempt, or closing (e.g. the customer booked) if nobody had to call."""
        moments = [m for m in (self.first_attempt_at, self.closed_at) if m is not None]
        return min(moments) if moments else None


@dataclass(frozen=True)
class WaitlistFact:
    """A customer's place in a waitlist: when it joined, was first offered a slot,
    claimed one, let an offer pass, or left the line."""

    entry_id: str
    service_id: str | None = None
    joined_at: datetime | None = None
    offered_at: datetime | None = None
    claimed_at: datetime | None = None
    passed_at: datetime | None = None
    left_at: datetime | None = None


@dataclass(frozen=True)
class WaitlistOfferFact:
    """A freed slot offered to a waitlisted customer (keyed by the offer's booking): which
    line and start, when and by what the slot was freed, and whether it was claimed."""

    booking_id: str
    service_id: str | None = None
    location_id: str | None = None
    slot_start: datetime | None = None
    slot_freed_at: datetime | None = None
    slot_freed_by: str | None = None  # None: published before the cause was told
    freed_booking_id: str | None = None
    offered_at: datetime | None = None
    claimed_at: datetime | None = None
    passed_at: datetime | None = None


class Merge(enum.Enum):
    """How a value an event tells meets the one already known, so that a record is the
    same whatever order its events arrive in."""

    EARLIEST = "earliest"  # moments: the first time something happened
    LATEST = "latest"  # descriptions: the newest known (slot after a reschedule)
    FIRST = "first"  # attributions: whoever said it first, unless it was unknown

    def meet(self, known: Any, told: Any) -> Any:
        """The value kept when ``told`` meets ``known`` (None is "not known")."""
        if known is None or told is None:
            return told if known is None else known
        if self is Merge.EARLIEST:
            return min(known, told)
        return told if self is Merge.LATEST else known


FactRow = tuple[str, Mapping[str, Any], Mapping[str, tuple[Any, Merge]]]
"""(record kind, key, values): what one event tells about one fact record — the kind is
``booking_request``, ``booking``, ``call``, ``callback_task``, ``waitlist_entry`` or
``waitlist_offer``."""
