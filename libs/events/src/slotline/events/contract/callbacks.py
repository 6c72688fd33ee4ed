"""``calls.events.v1``, part two — callback tasks and their 15-minute SLA.

Published by call-intake; read by the front desk's queue, notifier (escalations come
as requests on ``notifications.events.v1``), booking (the customer timeline) and
analysts (callbacks within SLA, call-to-booking conversion). Aggregate: the task.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import AwareDatetime, ConfigDict, Field

from slotline.events.contract.common import E164, Id
from slotline.events.envelope import Message
from slotline.events.topics import CALLS_EVENTS


class CallbackEvent(Message):
    TOPIC: ClassVar[str] = CALLS_EVENTS
    KEY: ClassVar[str] = "{task_id}"
    ABSTRACT: ClassVar[bool] = True


class TaskSource(StrEnum):
    """What created a callback task."""

    MISSED_CALL = "missed_call"
    VOICEMAIL = "voicemail"
    WEB_LEAD = "web_lead"
    WHATSAPP = "whatsapp"


class TaskOutcome(StrEnum):
    """How a callback task ended."""

    REACHED = "reached"
    BOOKED = "booked"
    GAVE_UP = "gave_up"


class AttemptResult(StrEnum):
    """What happened on one callback attempt."""

    REACHED = "reached"
    NO_ANSWER = "no_answer"
    LEFT_MESSAGE = "left_message"


_TASK = "The callback task."


class CallbackTaskCreated(CallbackEvent):
    """Someone must call back before ``deadline`` (the SLA clock)."""

    PERSONAL: ClassVar[tuple[str, ...]] = ("customer_phone",)
    SCHEMA_VERSION: ClassVar[int] = 2

    task_id: Id = Field(description=_TASK)
    call_id: Id | None = Field(default=None, description="The missed call, if one caused it.")
    customer_phone: E164 = Field(description="Whom to call back.")
    assigned_to: Id | None = Field(default=None, description="Staff or team assigned.")
    deadline: AwareDatetime = Field(description="SLA deadline, UTC.")
    source: TaskSource = Field(default=TaskSource.MISSED_CALL, description="What created it.")
    lead_id: Id | None = Field(default=None, description="The lead, for web or WhatsApp leads.")


class CallbackTaskClaimed(CallbackEvent):
    """A staff member took the task from the queue."""

    task_id: Id = Field(description=_TASK)
    staff_id: Id = Field(description="Who claimed it.")


class CallbackAttemptRecorded(CallbackEvent):
    """A callback attempt was made; the next one is scheduled unless the customer was reached."""

    task_id: Id = Field(description=_TASK)
    staff_id: Id = Field(description="Who called.")
    result: AttemptResult = Field(description="What happened.")
    next_attempt_at: AwareDatetime | None = Field(
        default=None, description="When to try again, if at all."
    )


class CallbackTaskEscalated(CallbackEvent):
    """The task is about to breach (``breached`` false) or has breached its SLA."""

    task_id: Id = Field(description=_TASK)
    breached: bool = Field(description="Already past the deadline.")
    escalated_to: Id | None = Field(default=None, description="The manager told.")


class CallbackTaskClosed(CallbackEvent):
    """The task is done: customer reached, booked (automatically closed) or given up."""

    task_id: Id = Field(description=_TASK)
    outcome: TaskOutcome = Field(description="How it ended.")
    booking_id: Id | None = Field(default=None, description="Credited as the call's result.")


class CallbackTaskCreatedV1(CallbackTaskCreated):
    """Someone must call back before ``deadline`` (the SLA clock).

    Version 1, read still: its personal fields travel in clear (version 2 seals them).
    """

    model_config = ConfigDict(title=CallbackTaskCreated.EVENT_TYPE)
    EVENT_TYPE: ClassVar[str] = CallbackTaskCreated.EVENT_TYPE
    SCHEMA_VERSION: ClassVar[int] = 1
    PERSONAL: ClassVar[tuple[str, ...]] = ()
