"""Reminder plans: when each reminder of a booking is due, and when it is too late.

A reminder is stored state (a queue row), never a timer. It is due ``lead`` before
the service starts; sent late it is still useful for half its lead (a 24 h reminder
up to 12 h late, a 1 h reminder up to 30 min late) and never once the service began.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

REMINDERS_NAMESPACE = uuid5(NAMESPACE_URL, "https://slotline.dev/notifier/reminders")

_KIND = re.compile(r"^(\d{1,4})(m|h|d)$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


@dataclass(frozen=True, order=True)
class ReminderKind:
    """A reminder ``lead`` before the start, named like ``24h``, ``1h``, ``30m``, ``2d``."""

    lead: timedelta
    name: str

    @classmethod
    def parse(cls, name: str) -> ReminderKind:
        match = _KIND.match(name.strip())
        if not match or int(match.group(1)) == 0:
            raise ValueError(f"reminder kind {name!r}: use a number and m, h or d, e.g. 24h")
        lead = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        return cls(lead=lead, name=name.strip())

    def due_at(self, starts_at: datetime) -> datetime:
        return starts_at - self.lead

    def useful_until(self, starts_at: datetime) -> datetime:
        """The latest a late reminder is still worth sending."""
        return min(self.due_at(starts_at) + self.lead / 2, starts_at)


def parse_kinds(names: str | list[str]) -> tuple[ReminderKind, ...]:
    """Kinds from ``"24h,1h"`` (or a list), longest lead first, no repeats."""
    items = names.split(",") if isinstance(names, str) else names
    kinds = {ReminderKind.parse(n) for n in items if n.strip()}
    return tuple(sorted(kinds, reverse=True))


@dataclass(frozen=True)
class PlannedReminder:
    kind: ReminderKind
    due_at: datetime
    useful_until: datetime


def plan(
    kinds: tuple[ReminderKind, ...], starts_at: datetime, now: datetime
) -> tuple[list[PlannedReminder], list[ReminderKind]]:
    """Reminders to schedule for a start, and the kinds already too late to be useful.

    Plans are made when a booking is confirmed or moved, and the notice of that goes out
    now: a reminder due by now is too late as well — it would repeat the notice, or
    overtake it (a booking made 50 minutes ahead got its 1 h reminder first). Sent late
    for half its lead is for reminders planned in time and held up (quiet hours, an
    outage), which :func:`~slotline.notifier.domain.outgoing.decide` judges."""
    planned, too_late = [], []
    for kind in kinds:
        if kind.due_at(starts_at) <= now or kind.useful_until(starts_at) <= now:
            too_late.append(kind)
        else:
            planned.append(
                PlannedReminder(kind, kind.due_at(starts_at), kind.useful_until(starts_at))
            )
    return planned, too_late


class BookingReminders(Aggregate):
    """The reminder history of one booking (stable across reschedules).

    Each kind is pending from ``scheduled`` until it fires or is skipped; a skip of a
    kind no longer pending (another channel's row already fired) records nothing.
    """

    @staticmethod
    def create_id(tenant_id: str, booking_id: str) -> UUID:
        return uuid5(REMINDERS_NAMESPACE, f"{tenant_id}:{booking_id}")

    class Started(Aggregate.Created):
        tenant_id: str
        booking_id: str

    @event(Started)
    def __init__(self, tenant_id: str, booking_id: str) -> None:
        self.tenant_id = tenant_id
        self.booking_id = booking_id
        self.pending: dict[str, datetime] = {}

    def scheduled(self, kind: str, due_at: datetime) -> None:
        self._scheduled(self.tenant_id, self.booking_id, kind, due_at)

    class Scheduled(Aggregate.Event):
        tenant_id: str
        booking_id: str
        kind: str
        due_at: datetime

    @event(Scheduled)
    def _scheduled(self, tenant_id: str, booking_id: str, kind: str, due_at: datetime) -> None:
        self.pending[kind] = due_at

    def skip(self, kind: str, reason: str) -> bool:
        """Skip a pending reminder; True when that was news."""
        if kind not in self.pending:
            return False
        self.skipped(kind, reason)
        return True

    def skipped(self, kind: str, reason: str) -> None:
        self._skipped(self.tenant_id, self.booking_id, kind, reason)

    class Skipped(Aggregate.Event):
        tenant_id: str
        booking_id: str
        kind: str
        reason: str

    @event(Skipped)
    def _skipped(self, tenant_id: str, booking_id: str, kind: str, reason: str) -> None:
        self.pending.pop(kind, None)

    def mark_fired(self, kind: str) -> None:
        if kind in self.pending:
            self._fired(kind)

    class Fired(Aggregate.Event):
        kind: str

    @event(Fired)
    def _fired(self, kind: str) -> None:
        self.pending.pop(kind, None)

    def skip_pending(self, reason: str) -> list[str]:
        """Skip every pending reminder (the booking moved, was cancelled or is over)."""
        kinds = sorted(self.pending)
        for kind in kinds:
            self.skipped(kind, reason)
        return kinds
