"""The hold aggregate: one booking request's claim on a slot and its resources.

A hold is placed for every required resource at once (its entries on the resources'
:class:`~.calendar.ResourceDay` calendars are saved with it), lives until it expires
unless confirmed, and keeps its id across reschedules. Transitions::

    held ──confirm──▶ confirmed ──cancel──▶ cancelled
     │ └──release──▶ released
     └────expire───▶ expired        (reschedule: held or confirmed, status unchanged)

A hold whose booking has nothing due first is confirmed in the step that places it
(:meth:`Hold.confirm_on_placing`); its booking may still give that one back (release).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from slotline.availability.domain.values import Interval

HOLD_NAMESPACE = uuid5(NAMESPACE_URL, "https://slotline.dev/availability/hold")


class HoldStatus(StrEnum):
    HELD = "held"
    CONFIRMED = "confirmed"
    RELEASED = "released"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class HoldExpired(Exception):
    """The hold ran out before it was confirmed (or rescheduled)."""


class InvalidTransition(Exception):
    """The command makes no sense in the hold's current status."""


class Asked(Aggregate.Created):
    """A hold key's first event, placed or refused: whose request, for which slot."""

    tenant_id: str
    hold_key: str
    booking_request_id: str | None
    service_id: UUID
    location_id: UUID
    slot_start: datetime
    slot_end: datetime

    def apply(self, aggregate: Any) -> None:
        aggregate.tenant_id = self.tenant_id
        aggregate.hold_key = self.hold_key
        aggregate.booking_request_id = self.booking_request_id
        aggregate.service_id = self.service_id
        aggregate.location_id = self.location_id
        aggregate.slot = Interval(self.slot_start, self.slot_end)


class AskedFor:
    """The state :class:`Asked` gives a hold key's aggregate (a hold or a refusal)."""

    tenant_id: str
    hold_key: str
    booking_request_id: str | None
    service_id: UUID
    location_id: UUID
    slot: Interval


@dataclass(frozen=True, slots=True)
class HoldAsk:
    """What a hold key asks for; a hold placed or refused for it starts from its fields."""

    tenant_id: str
    hold_key: str  # the caller's id for the hold: the same key never holds twice
    service_id: UUID
    location_id: UUID
    slot: Interval
    booking_request_id: str | None = None

    def asked(self) -> dict[str, Any]:
        """The fields of the :class:`Asked` event."""
        return {
            "tenant_id": self.tenant_id,
            "hold_key": self.hold_key,
            "booking_request_id": self.booking_request_id,
            "service_id": self.service_id,
            "location_id": self.location_id,
            "slot_start": self.slot.start,
            "slot_end": self.slot.end,
        }


class HoldState(AskedFor):
    """A hold's state (declared apart: annotations on an aggregate make it a dataclass)."""

    resource_ids: tuple[UUID, ...]
    seats: int
    expires_at: datetime | None
    status: HoldStatus
    moved_from: Interval | None  # the slot before the last reschedule
    confirmed_on_placing: bool  # its booking had nothing due first: see confirm_on_placing


class Hold(Aggregate, HoldState):
    """A time-limited claim on a slot; its id is derived from the booking request."""

    confirmed_on_placing = False  # what a hold stored before it could be reads

    @staticmethod
    def create_id(tenant_id: str, hold_key: str) -> UUID:
        """Deterministic from the caller's key, so a retried request finds its hold."""
        return uuid5(HOLD_NAMESPACE, f"{tenant_id}:{hold_key}")

    @classmethod
    def place(
        cls, ask: HoldAsk, *, resource_ids: Sequence[UUID], seats: int, expires_at: datetime
    ) -> Hold:
        if seats < 1:
            raise ValueError("a hold takes at least one seat")
        fields = ask.asked()
        return cls._create(
            cls.Placed,
            **fields,
            resource_ids=list(resource_ids),
            seats=seats,
            expires_at=expires_at,
        )

    class Placed(Asked):
        resource_ids: list[UUID]
        seats: int
        expires_at: datetime

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.resource_ids = tuple(self.resource_ids)
            aggregate.seats = self.seats
            aggregate.expires_at = self.expires_at
            aggregate.status = HoldStatus.HELD
            aggregate.moved_from = None
            aggregate.confirmed_on_placing = False

    def is_active(self, now: datetime) -> bool:
        """Whether the hold still occupies its resources at ``now``."""
        if self.status is HoldStatus.CONFIRMED:
            return True
        return self._running(now)

    def _running(self, now: datetime) -> bool:
        held = self.status is HoldStatus.HELD
        return held and self.expires_at is not None and now < self.expires_at

    def _refuse(self, command: str, hint: str = "") -> InvalidTransition:
        message = f"cannot {command} hold {self.id}: it is {self.status}"
        return InvalidTransition(f"{message}; {hint}" if hint else message)

    # -- commands ---------------------------------------------------------------------

    def confirm(self, now: datetime) -> None:
        """Turn the hold into an allocation. Confirming twice does nothing."""
        if self.status is HoldStatus.CONFIRMED:
            return
        if self.status is HoldStatus.EXPIRED or (
            self.status is HoldStatus.HELD and not self._running(now)
        ):
            raise HoldExpired(f"hold {self.id} expired at {self.expires_at}")
        if self.status is not HoldStatus.HELD:
            raise self._refuse("confirm")
        self._confirmed()

    def confirm_on_placing(self) -> None:
        """Confirm a hold in the step that placed it: its booking has nothing due first
        (no deposit, not a waitlist offer), so asking for the confirmation would only cost
        two more hops. Its booking may still give it back with a release, as a hold: it
        stopped waiting (and asked for the release) before this answer reached it."""
        if self.status is not HoldStatus.HELD:
            raise self._refuse("confirm on placing")
        self._confirmed_on_placing()

    def release(self, reason: str = "") -> None:
        """Give an unconfirmed hold back; a no-op once it is released or expired."""
        if self.status in (HoldStatus.RELEASED, HoldStatus.EXPIRED):
            return
        if self.status is HoldStatus.CONFIRMED and self.confirmed_on_placing:
            self._released(reason=reason)  # its booking never took it: see above
            return
        if self.status is not HoldStatus.HELD:
            raise self._refuse("release", "cancel a confirmed booking instead")
        self._released(reason=reason)

    def expire(self, now: datetime) -> None:
        """Let a held hold lapse once its time is up; late timers on others do nothing."""
        if self.status is not HoldStatus.HELD:
            return
        if self._running(now):
            raise self._refuse("expire", f"it runs until {self.expires_at}")
        self._expired()

    def cancel(self, reason: str = "") -> None:
        """Cancel a confirmed booking; cancelling twice does nothing."""
        if self.status is HoldStatus.CANCELLED:
            return
        if self.status is not HoldStatus.CONFIRMED:
            raise self._refuse("cancel", "release an unconfirmed hold instead")
        self._cancelled(reason=reason)

    def reschedule(
        self,
        slot: Interval,
        resource_ids: Sequence[UUID],
        now: datetime,
        expires_at: datetime | None = None,
    ) -> None:
        """Move to a new slot and resources, keeping the id and the status.

        A held hold may get a new ``expires_at``; a confirmed one never expires.
        """
        if self.status is HoldStatus.HELD and not self._running(now):
            raise HoldExpired(f"hold {self.id} expired at {self.expires_at}")
        if self.status not in (HoldStatus.HELD, HoldStatus.CONFIRMED):
            raise self._refuse("reschedule")
        if self.status is HoldStatus.CONFIRMED:
            expires_at = None
        elif expires_at is None:
            expires_at = self.expires_at
        self._rescheduled(
            slot_start=slot.start,
            slot_end=slot.end,
            resource_ids=list(resource_ids),
            expires_at=expires_at,
        )

    def refuse_move(self, slot: Interval, reason: str, alternatives: Sequence[Interval]) -> None:
        """Record that a move to ``slot`` could not be made; the hold stays as it was
        (recorded so the asker hears back, once, whatever the delivery count)."""
        self._move_refused(
            slot_start=slot.start,
            slot_end=slot.end,
            reason=reason,
            alternatives=[[a.start, a.end] for a in alternatives],
        )

    # -- events -----------------------------------------------------------------------

    class MoveRefused(Aggregate.Event):
        slot_start: datetime
        slot_end: datetime
        reason: str
        alternatives: list[list[datetime]]

    @event(MoveRefused)
    def _move_refused(
        self,
        slot_start: datetime,
        slot_end: datetime,
        reason: str,
        alternatives: list[list[datetime]],
    ) -> None:
        pass

    class Confirmed(Aggregate.Event):
        pass

    @event(Confirmed)
    def _confirmed(self) -> None:
        self.status = HoldStatus.CONFIRMED
        self.expires_at = None

    class ConfirmedOnPlacing(Aggregate.Event):
        pass

    @event(ConfirmedOnPlacing)
    def _confirmed_on_placing(self) -> None:
        self.status = HoldStatus.CONFIRMED
        self.expires_at = None
        self.confirmed_on_placing = True

    class Released(Aggregate.Event):
        reason: str

    @event(Released)
    def _released(self, reason: str) -> None:
        self.status = HoldStatus.RELEASED

    class Expired(Aggregate.Event):
        pass

    @event(Expired)
    def _expired(self) -> None:
        self.status = HoldStatus.EXPIRED

    class Cancelled(Aggregate.Event):
        reason: str

    @event(Cancelled)
    def _cancelled(self, reason: str) -> None:
        self.status = HoldStatus.CANCELLED

    class Rescheduled(Aggregate.Event):
        slot_start: datetime
        slot_end: datetime
        resource_ids: list[UUID]
        expires_at: datetime | None

    @event(Rescheduled)
    def _rescheduled(
        self,
        slot_start: datetime,
        slot_end: datetime,
        resource_ids: list[UUID],
        expires_at: datetime | None,
    ) -> None:
        self.moved_from = self.slot
        self.slot = Interval(slot_start, slot_end)
        self.resource_ids = tuple(resource_ids)
        self.expires_at = expires_at
