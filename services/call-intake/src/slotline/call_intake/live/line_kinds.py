"""What a line of a caller's timeline stands for: the ``kind`` the call-intake read model
stores and ``GET /v1/callers/{phone}/timeline`` returns. Each is chosen by the event's
class (the projection's tables), never by its name."""

from __future__ import annotations

from enum import StrEnum


class CallerLineKind(StrEnum):
    CALL = "call"
    CALL_ANSWERED = "call_answered"
    CALL_MISSED = "call_missed"
    TEXT_BACK = "text_back"
    TEXT_BACK_HELD = "text_back_held"
    TEXT_BACK_WITHHELD = "text_back_withheld"
    VOICEMAIL = "voicemail"
    VOICEMAIL_TRANSCRIBED = "voicemail_transcribed"
    BOOKING_CREDITED = "booking_credited"
    TASK_CREATED = "task_created"
    TASK_CLAIMED = "task_claimed"
    TASK_ATTEMPT_RECORDED = "task_attempt_recorded"
    TASK_ESCALATED = "task_escalated"
    TASK_CLOSED = "task_closed"
    BOOKING = "booking"
    CONSENT = "consent"
    MESSAGE = "message"
    BOOKING_REQUESTED = "booking_requested"
    LEAD = "lead"
