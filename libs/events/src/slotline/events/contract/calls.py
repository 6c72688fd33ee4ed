"""``calls.events.v1`` — calls, routing decisions, missed calls and callback tasks.

Published by call-intake; read by booking (the customer timeline), notifier
(text-backs and escalations come as requests on its own topic) and analysts.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import AwareDatetime, Field

from slotline.events.contract.common import E164, Id, MessageChannel
from slotline.events.envelope import Message
from slotline.events.topics import CALLS_EVENTS


class CallEvent(Message):
    TOPIC: ClassVar[str] = CALLS_EVENTS
    ABSTRACT: ClassVar[bool] = True


class MissReason(StrEnum):
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"
    CANCELED = "canceled"
    MACHINE_ANSWERED = "machine_answered"
    VOICEMAIL = "voicemail"


class TaskOutcome(StrEnum):
    REACHED = "reached"
    BOOKED = "booked"
    GAVE_UP = "gave_up"


class AttemptResult(StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    LEFT_MESSAGE = "left_message"


class CallReceived(CallEvent):
    """An inbound call reached one of the business's numbers."""

    call_id: Id
    from_phone: E164
    to_phone: E164
    provider_call_sid: str = Field(max_length=64)


class CallRouted(CallEvent):
    """Where a call was sent and why (business hours, team, strategy, overflow)."""

    call_id: Id
    target: str = Field(max_length=200, description="team:<id>, number:<e164> or voicemail.")
    strategy: str = Field(max_length=32)
    reason: str = Field(max_length=200)


class CallAnswered(CallEvent):
    """A person answered the call."""

    call_id: Id
    answered_by: Id | None = None


class CallMissed(CallEvent):
    """Nobody answered: why it counts as missed."""

    call_id: Id
    from_phone: E164
    to_phone: E164
    reason: MissReason
    after_hours: bool = False


class VoicemailRecorded(CallEvent):
    """The caller left a message."""

    call_id: Id
    recording_url: str = Field(max_length=2048)
    duration_seconds: int = Field(ge=0)
    transcription: str | None = Field(default=None, max_length=10000)


class CallbackTaskCreated(CallEvent):
    """Someone must call back before ``deadline`` (the SLA clock)."""

    task_id: Id
    call_id: Id | None = None
    customer_phone: E164
    assigned_to: Id | None = None
    deadline: AwareDatetime


class CallbackTaskClaimed(CallEvent):
    task_id: Id
    staff_id: Id


class CallbackAttemptRecorded(CallEvent):
    task_id: Id
    staff_id: Id
    result: AttemptResult
    next_attempt_at: AwareDatetime | None = None


class CallbackTaskEscalated(CallEvent):
    """The task is about to breach (``breached`` false) or has breached its SLA."""

    task_id: Id
    breached: bool
    escalated_to: Id | None = None


class CallbackTaskClosed(CallEvent):
    task_id: Id
    outcome: TaskOutcome
    booking_id: Id | None = Field(default=None, description="Credited as the call's result.")


class LeadCaptured(CallEvent):
    """A customer reached out (WhatsApp message, web lead) without booking yet."""

    lead_id: Id
    phone: E164 | None = None
    channel: MessageChannel
    text: str | None = Field(default=None, max_length=4096)
