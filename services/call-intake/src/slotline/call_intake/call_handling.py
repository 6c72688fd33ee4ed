"""Use cases of a call: receive and route it, follow its steps, notice a miss, react.

A miss, its text-back decision and the callback task are saved in one unit of work, so
a crash never leaves a missed call without its task or texts a caller twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from slotline.call_intake.caller_ids import caller_id
from slotline.call_intake.domain.call import Call, Outcome
from slotline.call_intake.domain.callback import CallbackTask
from slotline.call_intake.domain.caller import Caller
from slotline.call_intake.domain.instructions import CLOSED_MESSAGE, HangUp, Instruction
from slotline.call_intake.domain.plan import CallPlan, RingStrategy
from slotline.call_intake.domain.rotation import TeamRotation
from slotline.call_intake.domain.routing import Rotation, route_call
from slotline.call_intake.domain.textback import (
    HoldUntil,
    SendNow,
    Skip,
    TextBackContext,
    decide_text_back,
)
from slotline.call_intake.intake_base import IntakeBase
from slotline.call_intake.telephony.lines import caller_zone
from slotline.events.unit_of_work import UnitOfWork

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


@dataclass(frozen=True)
class InboundCall:
    tenant_id: str
    call_sid: str
    from_phone: str
    to_phone: str


class CallHandling(IntakeBase):
    def receive_call(self, inbound: InboundCall) -> Instruction:
        """Route a new call (a retried webhook gets the same answer)."""

        def act(work: UnitOfWork) -> Instruction:
            plan = self.plan_of(inbound.tenant_id)
            existing = work.get(Call, Call.create_id(inbound.tenant_id, inbound.call_sid))
            if existing is not None:
                return existing.instruction()
            now = self.clock()
            call = Call(
                tenant_id=inbound.tenant_id,
                call_sid=inbound.call_sid,
                from_phone=inbound.from_phone,
                to_phone=inbound.to_phone,
                received_at=now,
                caller_id=str(caller_id(inbound.tenant_id, inbound.from_phone)),
            )
            rotation = self._rotation(work, plan, inbound)
            route = route_call(
                plan, inbound.to_phone, now, rotation.rotation if rotation else Rotation()
            )
            call.route(route, plan.recording)
            work.add(call)
            if rotation is not None and route.steps and route.steps[0].target.startswith("team:"):
                rotation.offer(list(route.steps[0].staff_ids), now)
                work.add(rotation)
            self._after_outcome(work, call, plan)
            return self._closing(call)

        return self._command(act)

    def choose_recording(self, tenant_id: str, call_sid: str, digits: str) -> Instruction:
        return self._on_call(tenant_id, call_sid, lambda call: call.choose_recording(digits))

    def dial_ended(
        self, tenant_id: str, call_sid: str, step: int, status: str, answered_by: str | None
    ) -> Instruction:
        return self._on_call(
            tenant_id, call_sid, lambda call: call.dial_ended(step, status, answered_by)
        )

    def call_status(self, tenant_id: str, call_sid: str, status: str, sequence: int | None) -> None:
        self._on_call(tenant_id, call_sid, lambda call: call.status_reported(status, sequence))

    def voicemail_left(
        self, tenant_id: str, call_sid: str, recording_sid: str, url: str, duration: int
    ) -> Instruction:
        def leave(call: Call) -> None:
            if url and duration > 0:
                call.record_voicemail(recording_sid, url, duration)

        return self._on_call(tenant_id, call_sid, leave)

    def voicemail_transcribed(
        self, tenant_id: str, call_sid: str, recording_sid: str, text: str
    ) -> None:
        def transcribe(call: Call) -> None:
            if recording_sid in call.recordings and call.transcription != text:
                call.transcribe(recording_sid, text)

        self._on_call(tenant_id, call_sid, transcribe)

    def release_text_back(self, call_id: Any) -> bool:
        """Send a text-back held through the caller's quiet hours, if still wanted."""

        def act(work: UnitOfWork) -> bool:
            call = work.get(Call, call_id)
            if call is None or call.text_back != "held":
                return False
            if call.text_back_due is not None and call.text_back_due > self.clock():
                return False
            caller = self._caller(work, call.tenant_id, call.from_phone)  # only read
            if caller.opted_out:
                call.skip_text_back("opted_out")
            else:
                call.request_text_back(call.text_back_fields)
            return True

        return self._command(act)

    # -- inside -------------------------------------------------------------------

    def _on_call(self, tenant_id: str, call_sid: str, change: Any) -> Instruction:
        """Apply ``change`` to a known call, react to a miss, say what comes next."""

        def act(work: UnitOfWork) -> Instruction:
            plan = self.plan_of(tenant_id)
            call = self._tenant_item(work, Call, tenant_id, Call.create_id(tenant_id, call_sid))
            change(call)
            if call.pending_events:
                self._after_outcome(work, call, plan)
            return self._closing(call)

        return self._command(act)

    def _closing(self, call: Call) -> Instruction:
        instruction = call.instruction()
        if isinstance(instruction, HangUp) and call.outcome == Outcome.MISSED and not call.steps:
            return HangUp(CLOSED_MESSAGE)
        return instruction

    def _rotation(
        self, work: UnitOfWork, plan: CallPlan, inbound: InboundCall
    ) -> TeamRotation | None:
        """The team's rotation (a new one is saved only once it is offered a call)."""
        team = plan.team(plan.line(inbound.to_phone).team_id)
        if team.strategy is RingStrategy.SIMULTANEOUS:
            return None
        found = work.get(TeamRotation, TeamRotation.create_id(inbound.tenant_id, team.team_id))
        if found is not None:
            return found
        return TeamRotation(tenant_id=inbound.tenant_id, team_id=team.team_id)

    def _after_outcome(self, work: UnitOfWork, call: Call, plan: CallPlan) -> None:
        """What a miss sets off (in the same work): text-back decision, task."""
        just_missed = any(isinstance(e, Call.Missed) for e in call.pending_events)
        if not just_missed:
            return
        if not is_e164(call.from_phone):
            call.skip_text_back("no_caller_id")  # withheld number: nobody to text or call
            return
        now = self.clock()
        caller = self._caller(work, call.tenant_id, call.from_phone)
        caller.note_missed_call(call.id, now)
        work.add(caller)
        self._text_back(work, call, caller, plan, now)
        self._callback_for(work, call, caller, plan, now)

    def _text_back(
        self, work: UnitOfWork, call: Call, caller: Caller, plan: CallPlan, now: datetime
    ) -> None:
        context = TextBackContext(
            caller_phone=call.from_phone,
            business_numbers=plan.business_numbers(),
            enabled=plan.text_back,
            opted_out=caller.opted_out,
            last_text_back_at=caller.last_text_back_at,
            window=self.policy.window(plan),
            line_type=self.lines.line_type(call.from_phone),
            caller_zone=caller_zone(call.from_phone, plan.zone),
            hold_in_quiet_hours=plan.hold_text_backs_in_quiet_hours,
        )
        fields = {
            "to_phone": call.from_phone,
            "from_phone": call.to_phone,
            "channel": "whatsapp" if caller.writes_on_whatsapp else "sms",
            "business_name": plan.business_name,
            "booking_url": booking_link(plan.booking_url, call.from_phone, str(call.id)),
            "after_hours": call.after_hours,
            "language": plan.language,
        }
        decision = decide_text_back(context, now)
        if not isinstance(decision, Skip) and self.text_back_limits is not None:
            refused = self.text_back_limits.refusal_in(
                work, self.schema, call.tenant_id, call.from_phone
            )
            decision = Skip(refused) if refused is not None else decision
        match decision:
            case SendNow():
                call.request_text_back(fields)
                caller.note_text_back(call.id, now)
            case HoldUntil(until=until):
                call.hold_text_back(until, fields)
                caller.note_text_back(call.id, now)
            case Skip(reason=reason):
                call.skip_text_back(reason)

    def _callback_for(
        self, work: UnitOfWork, call: Call, caller: Caller, plan: CallPlan, now: datetime
    ) -> None:
        """The caller's open task takes the call; otherwise a new task opens."""
        if call.from_phone in plan.business_numbers():
            return
        if caller.open_task_id is not None:
            open_task = work.get(CallbackTask, caller.open_task_id)
            if open_task is not None and open_task.is_open:
                open_task.attach_call(call.id)
                return
        task = CallbackTask(
            tenant_id=call.tenant_id,
            cause=f"call:{call.id}",
            customer_phone=call.from_phone,
            source="voicemail" if call.miss_reason == "voicemail" else "missed_call",
            created_at=now,
            deadline=now + self.policy.sla(plan),
            call_id=call.id,
            assigned_to=f"team:{call.team_id}" if call.team_id else None,
            caller_id=call.caller_id,
        )
        caller.open_task(task.id)
        work.add(task)


def is_e164(phone: str) -> bool:
    return bool(_E164.match(phone))


def booking_link(base: str, phone: str, call_id: str) -> str:
    """The booking page with the caller's number (and the call it answers) prefilled."""
    parts = urlsplit(base)
    query = [*parse_qsl(parts.query), ("phone", phone), ("call", call_id)]
    return urlunsplit(parts._replace(query=urlencode(query)))
