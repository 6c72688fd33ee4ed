"""The callback task: someone must call a customer back before the SLA deadline.

A task opens for a missed call, a voicemail, a web lead or a WhatsApp message; it is
escalated to a manager shortly before its deadline and again when it breaches; each
attempt is recorded and schedules the next one; it closes when the customer is
reached, books (automatically), or the retry schedule runs out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from slotline.call_intake.domain.ids import derived_id
from slotline.events.privacy.personal import personal


class TaskRefused(Exception):
    """The task cannot do that in its current state (closed, claimed by someone else)."""


class Attempt(StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    LEFT_MESSAGE = "left_message"


class Closure(StrEnum):
    REACHED = "reached"
    BOOKED = "booked"
    GAVE_UP = "gave_up"


class CallbackTask(Aggregate):
    @staticmethod
    def create_id(tenant_id: str, cause: str) -> UUID:
        """Derived from what caused it (``call:<id>``, ``message:<id>`` …): opened once."""
        return derived_id("task", tenant_id, cause)

    @personal("customer_phone", subject="caller_id")
    class Created(Aggregate.Created):
        """Version 1 named no caller: it was stored before personal fields were sealed."""

        class_version = 2

        tenant_id: str
        cause: str
        customer_phone: str
        source: str
        created_at: datetime
        deadline: datetime
        call_id: UUID | None
        lead_id: str | None
        assigned_to: str | None
        caller_id: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["caller_id"] = ""

    @event(Created)
    def __init__(
        self,
        tenant_id: str,
        cause: str,
        customer_phone: str,
        source: str,
        created_at: datetime,
        deadline: datetime,
        call_id: UUID | None = None,
        lead_id: str | None = None,
        assigned_to: str | None = None,
        caller_id: str = "",
    ) -> None:
        self.tenant_id = tenant_id
        self.cause = cause
        self.customer_phone = customer_phone
        self.source = source
        self.created_at = created_at
        self.deadline = deadline
        self.call_id = call_id
        self.lead_id = lead_id
        self.assigned_to = assigned_to
        self.claimed_by: str | None = None
        self.attempts: list[str] = []
        self.first_response_at: datetime | None = None
        self.next_attempt_at: datetime | None = None
        self.warned = False
        self.breached = False
        self.closed: str | None = None
        self.booking_id: str | None = None
        self.calls: list[UUID] = [call_id] if call_id else []
        self.closed_at: datetime | None = None
        self.escalated_to: str | None = None

    @property
    def is_open(self) -> bool:
        return self.closed is None

    def _require_open(self, what: str) -> None:
        if not self.is_open:
            raise TaskRefused(
                f"cannot {what} callback task {self.id}: it is closed ({self.closed})"
            )

    # -- the front desk ---------------------------------------------------------------

    def claim(self, staff_id: str) -> None:
        self._require_open("claim")
        if self.claimed_by == staff_id:
            return
        if self.claimed_by is not None:
            raise TaskRefused(f"callback task {self.id} is claimed by {self.claimed_by}")
        self._claimed(staff_id=staff_id)

    class Claimed(Aggregate.Event):
        staff_id: str

    @event(Claimed)
    def _claimed(self, staff_id: str) -> None:
        self.claimed_by = staff_id

    def record_attempt(
        self, staff_id: str, result: Attempt, at: datetime, retry_after: Sequence[timedelta]
    ) -> None:
        """An attempt; reached closes the task, otherwise the schedule gives the next one."""
        self._require_open("record an attempt on")
        made = len(self.attempts)
        if result is Attempt.REACHED or made >= len(retry_after):
            next_at = None
        else:
            next_at = at + retry_after[made]
        self._attempted(staff_id=staff_id, result=result.value, at=at, next_attempt_at=next_at)
        if result is Attempt.REACHED:
            self._closed(outcome=Closure.REACHED.value, booking_id=None, at=at)
        elif next_at is None:
            self._closed(outcome=Closure.GAVE_UP.value, booking_id=None, at=at)

    class AttemptRecorded(Aggregate.Event):
        staff_id: str
        result: str
        at: datetime
        next_attempt_at: datetime | None

    @event(AttemptRecorded)
    def _attempted(
        self, staff_id: str, result: str, at: datetime, next_attempt_at: datetime | None
    ) -> None:
        self.attempts.append(result)
        self.next_attempt_at = next_attempt_at
        if self.first_response_at is None:
            self.first_response_at = at

    def close(self, outcome: Closure, at: datetime, booking_id: str | None = None) -> None:
        self._require_open("close")
        self._closed(outcome=outcome.value, booking_id=booking_id, at=at)

    class Closed(Aggregate.Event):
        outcome: str
        booking_id: str | None
        at: datetime

    @event(Closed)
    def _closed(self, outcome: str, booking_id: str | None, at: datetime) -> None:
        self.closed = outcome
        self.booking_id = booking_id
        self.closed_at = at

    def attach_call(self, call_id: UUID) -> None:
        """The same customer called again while the task is open: one task, not two."""
        if self.is_open and call_id not in self.calls:
            self._call_attached(call_id=call_id)

    class CallAttached(Aggregate.Event):
        call_id: UUID

    @event(CallAttached)
    def _call_attached(self, call_id: UUID) -> None:
        self.calls.append(call_id)

    # -- the SLA clock ----------------------------------------------------------------

    def escalations_due(self, now: datetime, warn_before: timedelta) -> list[bool]:
        """Escalations owed at ``now``: ``False`` = about to breach, ``True`` = breached."""
        if not self.is_open:
            return []
        due: list[bool] = []
        if not self.warned and not self.breached and now >= self.deadline - warn_before:
            due.append(False)
        if not self.breached and now >= self.deadline:
            due.append(True)
        return due[-1:]  # past the deadline, only the breach is news

    def escalate(self, breached: bool, manager_id: str | None, at: datetime) -> None:
        self._escalated(breached=breached, manager_id=manager_id, at=at)

    class Escalated(Aggregate.Event):
        breached: bool
        manager_id: str | None
        at: datetime

    @event(Escalated)
    def _escalated(self, breached: bool, manager_id: str | None, at: datetime) -> None:
        self.warned = True
        self.breached = self.breached or breached
        self.escalated_to = manager_id

    class EscalationRequested(Aggregate.Event):
        manager_id: str
        breached: bool
        to_phone: str | None
        to_email: str | None

    @event(EscalationRequested)
    def request_escalation(
        self,
        manager_id: str,
        breached: bool,
        to_phone: str | None,
        to_email: str | None,
    ) -> None:
        self.escalation_contact = {"phone": to_phone, "email": to_email}
