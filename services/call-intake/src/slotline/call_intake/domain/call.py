"""The call aggregate: one inbound call from ringing to answered or missed.

The signal that a call was missed is the outcome of the ``<Dial>`` steps (their
``DialCallStatus``), a machine answering, or the call ending in Slotline's voicemail —
never the parent call's ``completed``. Webhooks may repeat or arrive late: a step
reported twice, or a status older than one already seen, changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from slotline.call_intake.domain.ids import derived_id
from slotline.call_intake.domain.instructions import (
    CONSENT_PROMPTS,
    RECORDING_DISCLOSURE,
    VOICEMAIL_PROMPT,
    AskRecordingConsent,
    HangUp,
    Instruction,
    Ring,
    TakeVoicemail,
)
from slotline.call_intake.domain.plan import RecordingConsent
from slotline.call_intake.domain.routing import RingStep, Route
from slotline.events.privacy.personal import personal

ANSWERED_DIAL_STATUSES = frozenset({"completed", "answered"})
FINAL_CALL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


class Phase(StrEnum):
    CONSENT = "consent"  # asking whether the call may be recorded
    RINGING = "ringing"  # a ring step is under way
    VOICEMAIL = "voicemail"
    DONE = "done"


class Outcome(StrEnum):
    ANSWERED = "answered"
    MISSED = "missed"


def miss_reason(dial_status: str, answered_by: str | None) -> str:
    """Why a dial outcome counts as missed (``MissReason`` values), or '' if answered."""
    if answered_by and answered_by.startswith("machine"):
        return "machine_answered"
    if dial_status in ANSWERED_DIAL_STATUSES:
        return ""
    return {"busy": "busy", "failed": "failed", "canceled": "canceled"}.get(
        dial_status, "no_answer"
    )


class Call(Aggregate):
    """An inbound call; its id is derived from the provider's call id."""

    @staticmethod
    def create_id(tenant_id: str, call_sid: str) -> UUID:
        return derived_id("call", tenant_id, call_sid)

    @personal("from_phone", subject="caller_id")
    class Received(Aggregate.Created):
        """Version 1 named no caller: it was stored before personal fields were sealed."""

        class_version = 2

        tenant_id: str
        call_sid: str
        from_phone: str
        to_phone: str
        received_at: datetime
        caller_id: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["caller_id"] = ""

    @event(Received)
    def __init__(
        self,
        tenant_id: str,
        call_sid: str,
        from_phone: str,
        to_phone: str,
        received_at: datetime,
        caller_id: str,
    ) -> None:
        self.tenant_id = tenant_id
        self.call_sid = call_sid
        self.from_phone = from_phone
        self.to_phone = to_phone
        self.received_at = received_at
        self.caller_id = caller_id  # whose the call's personal data is
        self.steps: list[dict[str, Any]] = []
        self.voicemail = False
        self.opening = "open"
        self.team_id: str | None = None
        self.recording_mode = RecordingConsent.NEVER.value
        self.record = False
        self.phase = Phase.CONSENT.value
        self.step = -1
        self.dial_results: dict[str, str] = {}
        self.outcome: str | None = None
        self.miss_reason: str | None = None
        self.last_sequence = -1
        self.final_status: str | None = None
        self.text_back: str | None = None  # requested, held or skipped:<reason>
        self.text_back_due: datetime | None = None
        self.text_back_fields: dict[str, Any] = {}
        self.recordings: list[str] = []
        self.booking_id: str | None = None
        self.answered_by: str | None = None
        self.voicemail_url: str | None = None
        self.voicemail_seconds = 0
        self.transcription: str | None = None

    @property
    def after_hours(self) -> bool:
        return self.opening != "open"

    @property
    def current_step(self) -> RingStep:
        return RingStep.from_data(self.steps[self.step])

    # -- routing --------------------------------------------------------------------

    def route(self, route: Route, recording: RecordingConsent) -> None:
        """Record the route; a caller asked about recording first waits in ``consent``."""
        self._routed(
            steps=[s.to_data() for s in route.steps],
            voicemail=route.voicemail,
            opening=route.opening,
            team_id=route.team_id,
            recording_mode=recording.value,
        )
        if not (route.steps and recording in (RecordingConsent.OPT_IN, RecordingConsent.OPT_OUT)):
            self._advance(record=recording is RecordingConsent.ALWAYS)

    class Routed(Aggregate.Event):
        steps: list[dict[str, Any]]
        voicemail: bool
        opening: str
        team_id: str | None
        recording_mode: str

    @event(Routed)
    def _routed(
        self,
        steps: list[dict[str, Any]],
        voicemail: bool,
        opening: str,
        team_id: str | None,
        recording_mode: str,
    ) -> None:
        self.steps = steps
        self.voicemail = voicemail
        self.opening = opening
        self.team_id = team_id
        self.recording_mode = recording_mode

    def choose_recording(self, digits: str) -> None:
        """The caller's key press: 1 allows recording (opt-in), 9 declines it (opt-out)."""
        if self.phase != Phase.CONSENT:
            return
        opt_in = self.recording_mode == RecordingConsent.OPT_IN
        self._advance(record=digits == "1" if opt_in else digits != "9")

    def _advance(self, record: bool) -> None:
        self._recording_chosen(record=record)
        if self.steps:
            self._step_started(index=0)
        else:
            self._finish_unanswered("voicemail" if self.voicemail else "no_answer")

    class RecordingChosen(Aggregate.Event):
        record: bool

    @event(RecordingChosen)
    def _recording_chosen(self, record: bool) -> None:
        self.record = record
        self.phase = Phase.RINGING.value

    class StepStarted(Aggregate.Event):
        index: int

    @event(StepStarted)
    def _step_started(self, index: int) -> None:
        self.step = index
        self.phase = Phase.RINGING.value

    # -- outcomes -------------------------------------------------------------------

    def dial_ended(self, step: int, status: str, answered_by: str | None) -> bool:
        """A ``<Dial>`` step ended. True when this report was news (not a retry)."""
        if self.phase != Phase.RINGING or step != self.step or str(step) in self.dial_results:
            return False
        self._dial_ended(step=step, status=status, answered_by=answered_by)
        reason = miss_reason(status, answered_by)
        if not reason:
            staff = self.current_step.staff_ids
            self._answered(staff_id=staff[0] if len(staff) == 1 else None)
        elif step + 1 < len(self.steps):
            self._step_started(index=step + 1)
        else:
            self._finish_unanswered(reason)
        return True

    def _finish_unanswered(self, reason: str) -> None:
        self._missed(reason=reason)
        if self.voicemail:
            self._voicemail_started(reason=reason)

    class DialEnded(Aggregate.Event):
        step: int
        status: str
        answered_by: str | None

    @event(DialEnded)
    def _dial_ended(self, step: int, status: str, answered_by: str | None) -> None:
        self.dial_results[str(step)] = status

    class Answered(Aggregate.Event):
        staff_id: str | None

    @event(Answered)
    def _answered(self, staff_id: str | None) -> None:
        self.outcome = Outcome.ANSWERED.value
        self.answered_by = staff_id
        self.phase = Phase.DONE.value

    class Missed(Aggregate.Event):
        reason: str

    @event(Missed)
    def _missed(self, reason: str) -> None:
        self.outcome = Outcome.MISSED.value
        self.miss_reason = reason
        self.phase = Phase.DONE.value

    class VoicemailStarted(Aggregate.Event):
        reason: str

    @event(VoicemailStarted)
    def _voicemail_started(self, reason: str) -> None:
        self.phase = Phase.VOICEMAIL.value

    def status_reported(self, status: str, sequence: int | None) -> bool:
        """The parent call's status callback; stale or repeated reports are ignored.

        A call that ends before any step reported an outcome (the caller hung up while
        being asked about recording or while ringing) is missed; True when it just was.
        """
        if sequence is not None and sequence <= self.last_sequence:
            return False
        if self.final_status is not None or self.outcome is not None:
            return False  # once the outcome is known, a status adds nothing worth a write
        self._status(status=status, sequence=-1 if sequence is None else sequence)
        if status in FINAL_CALL_STATUSES and self.outcome is None:
            self._missed(reason=status.replace("-", "_") if status != "completed" else "canceled")
            return True
        return False

    class StatusReported(Aggregate.Event):
        status: str
        sequence: int

    @event(StatusReported)
    def _status(self, status: str, sequence: int) -> None:
        self.last_sequence = max(self.last_sequence, sequence)
        if status in FINAL_CALL_STATUSES:
            self.final_status = status

    # -- after the call -------------------------------------------------------------

    def request_text_back(self, fields: dict[str, Any]) -> None:
        self._text_back_requested(self.tenant_id, self.caller_id, fields)

    @personal("fields", subject="caller_id")
    class TextBackRequested(Aggregate.Event):
        class_version = 2  # version 1 named no tenant or caller: stored before sealing

        tenant_id: str
        caller_id: str
        fields: dict[str, Any]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["tenant_id"] = state["caller_id"] = ""

    @event(TextBackRequested)
    def _text_back_requested(
        self,
        tenant_id: str,
        caller_id: str,
        fields: dict[str, Any],
    ) -> None:
        self.text_back = "requested"
        self.text_back_fields = fields
        self.text_back_due = None

    def hold_text_back(self, until: datetime, fields: dict[str, Any]) -> None:
        self._text_back_held(self.tenant_id, self.caller_id, until, fields)

    @personal("fields", subject="caller_id")
    class TextBackHeld(Aggregate.Event):
        class_version = 2  # version 1 named no tenant or caller: stored before sealing

        tenant_id: str
        caller_id: str
        until: datetime
        fields: dict[str, Any]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["tenant_id"] = state["caller_id"] = ""

    @event(TextBackHeld)
    def _text_back_held(
        self,
        tenant_id: str,
        caller_id: str,
        until: datetime,
        fields: dict[str, Any],
    ) -> None:
        self.text_back = "held"
        self.text_back_due = until
        self.text_back_fields = fields

    class TextBackSkipped(Aggregate.Event):
        reason: str

    @event(TextBackSkipped)
    def skip_text_back(self, reason: str) -> None:
        self.text_back = f"skipped:{reason}"

    def record_voicemail(self, recording_sid: str, url: str, duration: int) -> bool:
        """A message was left; a repeated callback (same recording) is ignored."""
        if recording_sid in self.recordings:
            return False
        self._voicemail(
            tenant_id=self.tenant_id,
            caller_id=self.caller_id,
            recording_sid=recording_sid,
            url=url,
            duration=duration,
        )
        return True

    @personal("url", subject="caller_id")
    class VoicemailRecorded(Aggregate.Event):
        class_version = 2  # version 1 named no tenant or caller: stored before sealing

        tenant_id: str
        caller_id: str
        recording_sid: str
        url: str
        duration: int

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["tenant_id"] = state["caller_id"] = ""

    @event(VoicemailRecorded)
    def _voicemail(
        self,
        tenant_id: str,
        caller_id: str,
        recording_sid: str,
        url: str,
        duration: int,
    ) -> None:
        self.recordings.append(recording_sid)
        self.voicemail_url = url
        self.voicemail_seconds = duration
        self.phase = Phase.DONE.value

    def transcribe(self, recording_sid: str, text: str) -> None:
        self._transcribed(self.tenant_id, self.caller_id, recording_sid, text)

    @personal("text", subject="caller_id")
    class VoicemailTranscribed(Aggregate.Event):
        class_version = 2  # version 1 named no tenant or caller: stored before sealing

        tenant_id: str
        caller_id: str
        recording_sid: str
        text: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["tenant_id"] = state["caller_id"] = ""

    @event(VoicemailTranscribed)
    def _transcribed(
        self,
        tenant_id: str,
        caller_id: str,
        recording_sid: str,
        text: str,
    ) -> None:
        self.transcription = text

    class BookingCredited(Aggregate.Event):
        booking_id: str

    @event(BookingCredited)
    def credit_booking(self, booking_id: str) -> None:
        self.booking_id = booking_id

    # -- what to say next -----------------------------------------------------------

    def instruction(self) -> Instruction:
        """The next instruction in the call's current state (the same on a retry)."""
        if self.phase == Phase.CONSENT:
            return AskRecordingConsent(CONSENT_PROMPTS[self.recording_mode])
        if self.phase == Phase.RINGING:
            step = self.current_step
            disclose = self.record and self.step == 0 and self.recording_mode == "always"
            return Ring(
                step=self.step,
                numbers=step.numbers,
                timeout_seconds=step.timeout_seconds,
                record=self.record,
                disclosure=RECORDING_DISCLOSURE if disclose else None,
            )
        if self.phase == Phase.VOICEMAIL:
            return TakeVoicemail(VOICEMAIL_PROMPT)
        return HangUp()
