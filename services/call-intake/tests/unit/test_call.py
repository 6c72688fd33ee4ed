"""A call's life: the Dial outcome decides answered or missed; repeats and late reports
change nothing; recording consent is asked where the plan says so."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree.ElementTree import Element, fromstring

import pytest

from slotline.call_intake.domain.call import Call
from slotline.call_intake.domain.instructions import (
    AskRecordingConsent,
    HangUp,
    Ring,
    TakeVoicemail,
)
from slotline.call_intake.domain.plan import RecordingConsent
from slotline.call_intake.domain.routing import RingStep, Route
from slotline.call_intake.telephony.twiml import render

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
TEAM = RingStep("team:desk", "simultaneous", "in_hours", ("+302100000011",), ("maria",), 15)
OVERFLOW = RingStep("number:+302100000099", "overflow", "team_unanswered", ("+302100000099",))


def new_call(
    *steps: RingStep, voicemail: bool = True, recording: RecordingConsent = RecordingConsent.NEVER
) -> Call:
    call = Call(
        tenant_id="t",
        call_sid="CA1",
        from_phone="+306912345678",
        to_phone="+302100000001",
        received_at=NOW,
        caller_id="caller-1",
    )
    call.route(Route(tuple(steps), voicemail, "open", "desk"), recording)
    return call


def twiml(document: bytes) -> Element:
    """Parse TwiML this service rendered itself (trusted input)."""
    return fromstring(document)  # noqa: S314


class TestMissedCallDetection:
    def test_an_answered_dial_is_not_a_miss(self) -> None:
        call = new_call(TEAM)
        assert call.dial_ended(0, "completed", None)
        assert call.outcome == "answered"
        assert call.answered_by == "maria"
        assert call.instruction() == HangUp()

    @pytest.mark.parametrize(
        ("status", "reason"),
        [
            ("no-answer", "no_answer"),
            ("busy", "busy"),
            ("failed", "failed"),
            ("canceled", "canceled"),
        ],
    )
    def test_an_unanswered_dial_is_a_miss_with_its_reason(self, status: str, reason: str) -> None:
        call = new_call(TEAM)
        call.dial_ended(0, status, None)
        assert (call.outcome, call.miss_reason) == ("missed", reason)
        assert isinstance(call.instruction(), TakeVoicemail)

    def test_a_machine_answering_is_a_miss(self) -> None:
        call = new_call(TEAM)
        call.dial_ended(0, "completed", "machine_end_beep")
        assert call.miss_reason == "machine_answered"

    def test_the_parent_calls_completed_alone_is_not_the_signal(self) -> None:
        call = new_call(TEAM)
        assert not call.status_reported("in-progress", 1)
        assert call.outcome is None
        call.dial_ended(0, "completed", None)
        assert not call.status_reported("completed", 2)
        assert call.outcome == "answered"

    def test_a_caller_hanging_up_before_any_outcome_is_a_miss(self) -> None:
        call = new_call(TEAM)
        assert call.status_reported("completed", 3)
        assert call.miss_reason == "canceled"

    def test_the_answering_service_is_tried_before_the_call_counts_as_missed(self) -> None:
        call = new_call(TEAM, OVERFLOW)
        call.dial_ended(0, "no-answer", None)
        assert call.outcome is None
        instruction = call.instruction()
        assert isinstance(instruction, Ring)
        assert (instruction.step, instruction.numbers) == (1, ("+302100000099",))
        call.dial_ended(1, "busy", None)
        assert call.miss_reason == "busy"

    def test_no_steps_means_straight_to_voicemail_and_a_miss(self) -> None:
        call = new_call()
        assert call.miss_reason == "voicemail"
        assert isinstance(call.instruction(), TakeVoicemail)


class TestRepeatsAndLateReports:
    def test_a_repeated_dial_report_changes_nothing(self) -> None:
        call = new_call(TEAM)
        call.dial_ended(0, "no-answer", None)
        call.collect_events()
        assert not call.dial_ended(0, "no-answer", None)
        assert not call.dial_ended(0, "completed", None)
        assert call.collect_events() == []

    def test_an_older_status_after_a_newer_one_is_ignored(self) -> None:
        call = new_call(TEAM)
        call.status_reported("ringing", 2)
        assert not call.status_reported("initiated", 1)
        assert call.last_sequence == 2

    def test_a_repeated_voicemail_is_recorded_once(self) -> None:
        call = new_call(TEAM)
        call.dial_ended(0, "no-answer", None)
        assert call.record_voicemail("RE1", "https://api.example/RE1", 12)
        assert not call.record_voicemail("RE1", "https://api.example/RE1", 12)
        assert call.instruction() == HangUp()


class TestRecordingConsent:
    def test_always_discloses_before_ringing_and_records(self) -> None:
        instruction = new_call(TEAM, recording=RecordingConsent.ALWAYS).instruction()
        assert isinstance(instruction, Ring)
        assert instruction.record
        assert instruction.disclosure

    def test_opt_in_asks_and_records_only_after_a_1(self) -> None:
        call = new_call(TEAM, recording=RecordingConsent.OPT_IN)
        assert isinstance(call.instruction(), AskRecordingConsent)
        call.choose_recording("")
        assert not call.record
        other = new_call(TEAM, recording=RecordingConsent.OPT_IN)
        other.choose_recording("1")
        assert other.record

    def test_opt_out_records_unless_9_is_pressed(self) -> None:
        call = new_call(TEAM, recording=RecordingConsent.OPT_OUT)
        call.choose_recording("9")
        assert not call.record
        other = new_call(TEAM, recording=RecordingConsent.OPT_OUT)
        other.choose_recording("")
        assert other.record

    def test_never_rings_without_recording(self) -> None:
        instruction = new_call(TEAM).instruction()
        assert isinstance(instruction, Ring)
        assert not instruction.record


class TestTwiml:
    def test_a_ring_is_a_dial_reporting_back_to_its_step(self) -> None:
        xml = render(
            Ring(1, ("+302100000011", "+302100000012"), 15, record=True, disclosure="Recorded."),
            "/v1/telephony/t",
        )
        root = twiml(xml)
        assert root.tag == "Response"
        say = root.find("Say")
        assert say is not None
        assert say.text == "Recorded."
        dial = root.find("Dial")
        assert dial is not None
        assert dial.get("action") == "/v1/telephony/t/dial?step=1"
        assert dial.get("timeout") == "15"
        assert dial.get("record") == "record-from-answer-dual"
        assert [n.text for n in dial.findall("Number")] == ["+302100000011", "+302100000012"]

    def test_text_is_escaped_not_concatenated(self) -> None:
        xml = render(HangUp("Tom & Jerry <closed>"), "/x")
        say = twiml(xml).find("Say")
        assert say is not None
        assert say.text == "Tom & Jerry <closed>"

    def test_voicemail_records_with_a_transcription_callback(self) -> None:
        record = twiml(render(TakeVoicemail("Leave a message"), "/v1/telephony/t")).find("Record")
        assert record is not None
        assert record.get("action") == "/v1/telephony/t/voicemail"
        assert record.get("transcribeCallback") == "/v1/telephony/t/transcription"
