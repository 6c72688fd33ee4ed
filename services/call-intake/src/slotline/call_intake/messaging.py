"""Kafka side of the call-intake service: what it publishes and what it consumes.

Publishes calls, routing decisions, misses, voicemails, WhatsApp messages, leads and
callback tasks on ``calls.events.v1``; text-back and escalation requests on
``notifications.events.v1``; WhatsApp booking intents on ``booking.requests.v1`` — all
through the outbox relay. Consumes ``ConsentChanged`` (opt-outs, from the notifier)
and ``BookingConfirmed`` (closes the caller's task, credits the call) exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any

from slotline.call_intake.application import CallIntakeApplication
from slotline.call_intake.call_handling import is_e164
from slotline.call_intake.domain.call import Call
from slotline.call_intake.domain.callback import CallbackTask
from slotline.call_intake.domain.message import InboundMessage
from slotline.events.contract import booking, calls, notifications
from slotline.events.contract import booking_requests as requests
from slotline.events.contract import callbacks as tasks
from slotline.events.contract.common import Channel, Contact, MessageChannel
from slotline.events.envelope import Message
from slotline.events.publishing import Publisher
from slotline.events.runtime import Subscription
from slotline.events.subscription import Handler
from slotline.events.topics import BOOKING_EVENTS, NOTIFICATIONS_EVENTS
from slotline.events.unit_of_work import UnitOfWork

# --- publishing ------------------------------------------------------------------------


def publisher() -> Publisher:
    """What call-intake publishes, by event class, from the aggregate right after each
    event. Callers, plans and rotations are internal; so are a call's routing, recording
    choice, dial results, status reports and booking credit, and a task's attached calls.

    A mapping that meets data it cannot map raises, as in every service: the relay
    writes that event to the outbox dead-letter topic with the reason and moves on."""
    table = Publisher(Call, CallbackTask, InboundMessage)
    on = table.on

    # -- calls ------------------------------------------------------------------------

    @on(Call.Received)
    def received(call: Call, _: Call.Received) -> Message | None:
        if not is_e164(call.from_phone):
            return None  # a withheld caller id fits no public event about the caller
        return calls.CallReceived(
            **_call_ids(call),
            from_phone=call.from_phone,
            to_phone=call.to_phone,
            provider_call_sid=call.call_sid[:64],
        )

    @on(Call.StepStarted)
    def step_started(call: Call, _: Call.StepStarted) -> Message:
        step = call.current_step
        return calls.CallRouted(
            **_call_ids(call), target=step.target, strategy=step.strategy, reason=step.reason
        )

    @on(Call.VoicemailStarted)
    def voicemail_started(call: Call, started: Call.VoicemailStarted) -> Message:
        reason = "after_hours" if call.after_hours and not call.steps else started.reason
        return calls.CallRouted(
            **_call_ids(call), target="voicemail", strategy="voicemail", reason=reason
        )

    @on(Call.Answered)
    def answered(call: Call, _: Call.Answered) -> Message:
        return calls.CallAnswered(**_call_ids(call), answered_by=call.answered_by)

    @on(Call.Missed)
    def missed(call: Call, _: Call.Missed) -> Message | None:
        if not is_e164(call.from_phone):
            return None  # a withheld caller id fits no public event about the caller
        return calls.CallMissed(
            **_call_ids(call),
            from_phone=call.from_phone,
            to_phone=call.to_phone,
            reason=calls.MissReason(call.miss_reason or "no_answer"),
            after_hours=call.after_hours,
        )

    @on(Call.TextBackRequested)
    def text_back_requested(call: Call, _: Call.TextBackRequested) -> Message:
        fields = call.text_back_fields
        return notifications.TextBackRequested(
            **_call_ids(call),
            to_phone=fields["to_phone"],
            from_phone=fields["from_phone"],
            channel=MessageChannel(fields["channel"]),
            business_name=fields["business_name"],
            booking_url=fields["booking_url"],
            after_hours=fields["after_hours"],
            language=fields.get("language"),
        )

    @on(Call.TextBackHeld)
    def text_back_held(call: Call, _: Call.TextBackHeld) -> Message:
        return calls.TextBackWithheld(
            **_call_ids(call),
            reason="quiet_hours",
            held_until=call.text_back_due.astimezone(UTC) if call.text_back_due else None,
        )

    @on(Call.TextBackSkipped)
    def text_back_skipped(call: Call, skipped: Call.TextBackSkipped) -> Message:
        return calls.TextBackWithheld(**_call_ids(call), reason=skipped.reason)

    @on(Call.VoicemailRecorded)
    def voicemail_recorded(call: Call, recorded: Call.VoicemailRecorded) -> Message:
        return calls.VoicemailRecorded(
            **_call_ids(call), recording_url=recorded.url, duration_seconds=recorded.duration
        )

    @on(Call.VoicemailTranscribed)
    def voicemail_transcribed(call: Call, transcribed: Call.VoicemailTranscribed) -> Message:
        return calls.VoicemailTranscribed(
            **_call_ids(call),
            recording_id=transcribed.recording_sid[:64],
            transcription=transcribed.text,
        )

    # -- callback tasks ---------------------------------------------------------------

    @on(CallbackTask.Created)
    def task_created(task: CallbackTask, _: CallbackTask.Created) -> Message:
        return tasks.CallbackTaskCreated(
            **_task_ids(task),
            call_id=str(task.call_id) if task.call_id else None,
            customer_phone=task.customer_phone,
            assigned_to=task.assigned_to,
            deadline=task.deadline,
            source=tasks.TaskSource(task.source),
            lead_id=task.lead_id,
        )

    @on(CallbackTask.Claimed)
    def task_claimed(task: CallbackTask, claimed: CallbackTask.Claimed) -> Message:
        return tasks.CallbackTaskClaimed(**_task_ids(task), staff_id=claimed.staff_id)

    @on(CallbackTask.AttemptRecorded)
    def attempt_recorded(task: CallbackTask, attempt: CallbackTask.AttemptRecorded) -> Message:
        return tasks.CallbackAttemptRecorded(
            **_task_ids(task),
            staff_id=attempt.staff_id,
            result=tasks.AttemptResult(attempt.result),
            next_attempt_at=attempt.next_attempt_at,
        )

    @on(CallbackTask.Escalated)
    def task_escalated(task: CallbackTask, escalated: CallbackTask.Escalated) -> Message:
        return tasks.CallbackTaskEscalated(
            **_task_ids(task), breached=escalated.breached, escalated_to=escalated.manager_id
        )

    @on(CallbackTask.EscalationRequested)
    def escalation_requested(
        task: CallbackTask, asked: CallbackTask.EscalationRequested
    ) -> Message:
        return notifications.EscalationRequested(
            tenant_id=task.tenant_id,
            aggregate_id=str(task.id),
            task_id=str(task.id),
            to_staff_id=asked.manager_id,
            breached=asked.breached,
            deadline=task.deadline,
            to_phone=asked.to_phone,
            to_email=asked.to_email,
            caller_phone=task.customer_phone,
        )

    @on(CallbackTask.Closed)
    def task_closed(task: CallbackTask, closed: CallbackTask.Closed) -> Message:
        return tasks.CallbackTaskClosed(
            **_task_ids(task),
            outcome=tasks.TaskOutcome(closed.outcome),
            booking_id=closed.booking_id,
        )

    # -- messages ---------------------------------------------------------------------

    @on(InboundMessage.Received)
    def message_received(message: InboundMessage, _: InboundMessage.Received) -> Message | None:
        if message.channel != "whatsapp":
            return None
        return calls.WhatsAppMessageReceived(
            **_message_ids(message),
            message_id=message.message_id,
            from_phone=message.from_phone,
            to_phone=message.to_phone,
            text=message.text,
            booking_intent=message.booking_intent,
            lead_id=None if message.booking_intent else message.lead_id,
        )

    @on(InboundMessage.LeadCaptured)
    def lead_captured(message: InboundMessage, _: InboundMessage.LeadCaptured) -> Message:
        return calls.LeadCaptured(
            **_message_ids(message),
            lead_id=message.lead_id,
            phone=message.from_phone,
            channel=MessageChannel.WHATSAPP
            if message.channel == "whatsapp"
            else MessageChannel.SMS,
            text=message.text,
            name=message.profile_name,
        )

    @on(InboundMessage.BookingForwarded)
    def booking_forwarded(
        message: InboundMessage, _: InboundMessage.BookingForwarded
    ) -> Message | None:
        return _booking_request(message)

    return table


def _call_ids(call: Call) -> dict[str, Any]:
    return {"tenant_id": call.tenant_id, "aggregate_id": str(call.id), "call_id": str(call.id)}


def _task_ids(task: CallbackTask) -> dict[str, Any]:
    return {"tenant_id": task.tenant_id, "aggregate_id": str(task.id), "task_id": str(task.id)}


def _message_ids(message: InboundMessage) -> dict[str, Any]:
    return {"tenant_id": message.tenant_id, "aggregate_id": str(message.id)}


def _booking_request(message: InboundMessage) -> Message | None:
    request = message.request
    if request is None:
        return None
    return requests.BookingRequested(
        tenant_id=message.tenant_id,
        aggregate_id=message.request_id,
        request_id=message.request_id,
        channel=Channel.WHATSAPP,
        contact=Contact(name=message.profile_name or "WhatsApp customer", phone=message.from_phone),
        service_id=request["service_id"],
        location_id=request["location_id"],
        slot_start=request["slot_start"],
        preferred_staff_id=request["staff_id"],
        notes=message.text[:2000] if message.text else None,
        source_call_id=request["call_id"],
        idempotency_key=message.request_id,
    )


# --- consuming ---------------------------------------------------------------------------


def subscriptions(application: CallIntakeApplication) -> Sequence[Subscription]:
    """Opt-outs from the notifier and confirmed bookings, each applied exactly once, in
    its inbox batch's unit of work (a batch is one transaction)."""
    return (
        Subscription(
            NOTIFICATIONS_EVENTS,
            handlers={notifications.ConsentChanged: consent_changes(application)},
        ),
        Subscription(
            BOOKING_EVENTS,
            handlers=dict.fromkeys(
                (booking.BookingConfirmed, booking.CustomerErased), booking_facts(application)
            ),
        ),
    )


def consent_changes(app: CallIntakeApplication) -> Handler:
    def apply(message: Message, work: UnitOfWork) -> None:
        if isinstance(message, notifications.ConsentChanged) and message.phone:
            app.consent_changed(
                message.tenant_id,
                message.phone,
                message.scope.value,
                message.granted,
                message.keyword,
                work,
            )

    return apply


def booking_facts(app: CallIntakeApplication) -> Handler:
    """Confirmed bookings (they close a caller's task) and erased customers."""

    def apply(message: Message, work: UnitOfWork) -> None:
        if isinstance(message, booking.CustomerErased) and message.phone_pseudonym:
            app.caller_erased(message.tenant_id, message.phone_pseudonym, work)
        if isinstance(message, booking.BookingConfirmed) and message.contact.phone:
            app.booking_confirmed(
                message.tenant_id,
                message.contact.phone,
                message.booking_id,
                message.source_call_id,
                work,
            )

    return apply
