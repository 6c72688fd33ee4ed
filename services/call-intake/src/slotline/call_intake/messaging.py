"""Kafka side of the call-intake service: what it publishes and what it consumes.

Publishes calls, routing decisions, misses, voicemails, WhatsApp messages, leads and
callback tasks on ``calls.events.v1``; text-back and escalation requests on
``notifications.events.v1``; WhatsApp booking intents on ``booking.requests.v1`` — all
through the outbox relay. Consumes ``ConsentChanged`` (opt-outs, from the notifier)
and ``BookingConfirmed`` (closes the caller's task, credits the call) exactly once.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import UTC
from typing import Any

from eventsourcing.persistence import Tracking

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
from slotline.events.logs import get_logger
from slotline.events.relay import IntegrationMapper
from slotline.events.runtime import Subscription
from slotline.events.store import ServiceApplication
from slotline.events.topics import BOOKING_EVENTS, NOTIFICATIONS_EVENTS

log = get_logger(__name__)

# --- publishing ------------------------------------------------------------------------

_PUBLISHED = ("Call.", "CallbackTask.", "InboundMessage.")


def publisher(application: ServiceApplication) -> IntegrationMapper:
    """Maps each stored event to its public event, from the aggregate at that version.

    The relay maps events in log order, so the aggregate at an event's version is
    usually the one at the previous version (kept here) with that event applied; only
    on a miss is it replayed from the store.
    """
    versions = AggregateVersions(application)

    def publish(domain_event: Any) -> Message | None:
        try:
            return _publish(domain_event)
        except (ValueError, KeyError, AttributeError) as error:
            # A mapping bug must not wedge the relay on one event forever: say so loudly.
            log.error(
                "stored event not publishable", event=repr(domain_event)[:300], error=repr(error)
            )
            return None

    def _publish(domain_event: Any) -> Message | None:
        kind = type(domain_event).__qualname__
        if not kind.startswith(_PUBLISHED):
            return None  # callers, plans and rotations are internal
        aggregate = versions.at(domain_event)
        name = kind.split(".", 1)[1]
        if isinstance(aggregate, Call):
            return _call_event(aggregate, name, domain_event)
        if isinstance(aggregate, CallbackTask):
            return _task_event(aggregate, name, domain_event)
        if isinstance(aggregate, InboundMessage):
            return _message_event(aggregate, name)
        return None

    return publish


class AggregateVersions:
    """Aggregates as of the events being mapped, built forward event by event (bounded)."""

    def __init__(self, application: ServiceApplication, size: int = 10_000) -> None:
        self.application = application
        self.size = size
        self._latest: OrderedDict[Any, Any] = OrderedDict()

    def at(self, domain_event: Any) -> Any:
        key, version = domain_event.originator_id, domain_event.originator_version
        known = self._latest.pop(key, None)
        if known is not None and known.version == version - 1:
            aggregate = domain_event.mutate(known)
        elif known is None and version == 1:
            aggregate = domain_event.mutate(None)
        else:
            aggregate = self.application.repository.get(key, version=version)
        self._latest[key] = aggregate
        if len(self._latest) > self.size:
            self._latest.popitem(last=False)
        return aggregate


def _call_event(call: Call, name: str, event: Any) -> Message | None:
    if name in ("Received", "Missed") and not is_e164(call.from_phone):
        return None  # a withheld caller id fits no public event about the caller
    common: dict[str, Any] = {
        "tenant_id": call.tenant_id,
        "aggregate_id": str(call.id),
        "call_id": str(call.id),
    }
    match name:
        case "Received":
            return calls.CallReceived(
                **common,
                from_phone=call.from_phone,
                to_phone=call.to_phone,
                provider_call_sid=call.call_sid[:64],
            )
        case "StepStarted":
            step = call.current_step
            return calls.CallRouted(
                **common, target=step.target, strategy=step.strategy, reason=step.reason
            )
        case "VoicemailStarted":
            reason = "after_hours" if call.after_hours and not call.steps else event.reason
            return calls.CallRouted(
                **common, target="voicemail", strategy="voicemail", reason=reason
            )
        case "Answered":
            return calls.CallAnswered(**common, answered_by=call.answered_by)
        case "Missed":
            return calls.CallMissed(
                **common,
                from_phone=call.from_phone,
                to_phone=call.to_phone,
                reason=calls.MissReason(call.miss_reason or "no_answer"),
                after_hours=call.after_hours,
            )
        case "TextBackRequested":
            fields = call.text_back_fields
            return notifications.TextBackRequested(
                **common,
                to_phone=fields["to_phone"],
                from_phone=fields["from_phone"],
                channel=MessageChannel(fields["channel"]),
                business_name=fields["business_name"],
                booking_url=fields["booking_url"],
                after_hours=fields["after_hours"],
                language=fields.get("language"),
            )
        case "TextBackHeld":
            return calls.TextBackWithheld(
                **common,
                reason="quiet_hours",
                held_until=call.text_back_due.astimezone(UTC) if call.text_back_due else None,
            )
        case "TextBackSkipped":
            return calls.TextBackWithheld(**common, reason=event.reason)
        case "VoicemailRecorded":
            return calls.VoicemailRecorded(
                **common,
                recording_url=event.url,
                duration_seconds=event.duration,
            )
        case "VoicemailTranscribed":
            return calls.VoicemailTranscribed(
                **common, recording_id=event.recording_sid[:64], transcription=event.text
            )
    return None


def _task_event(task: CallbackTask, name: str, event: Any) -> Message | None:
    common: dict[str, Any] = {
        "tenant_id": task.tenant_id,
        "aggregate_id": str(task.id),
        "task_id": str(task.id),
    }
    match name:
        case "Created":
            return tasks.CallbackTaskCreated(
                **common,
                call_id=str(task.call_id) if task.call_id else None,
                customer_phone=task.customer_phone,
                assigned_to=task.assigned_to,
                deadline=task.deadline,
                source=tasks.TaskSource(task.source),
                lead_id=task.lead_id,
            )
        case "Claimed":
            return tasks.CallbackTaskClaimed(**common, staff_id=event.staff_id)
        case "AttemptRecorded":
            return tasks.CallbackAttemptRecorded(
                **common,
                staff_id=event.staff_id,
                result=tasks.AttemptResult(event.result),
                next_attempt_at=event.next_attempt_at,
            )
        case "Escalated":
            return tasks.CallbackTaskEscalated(
                **common, breached=event.breached, escalated_to=event.manager_id
            )
        case "EscalationRequested":
            return notifications.EscalationRequested(
                tenant_id=task.tenant_id,
                aggregate_id=str(task.id),
                task_id=str(task.id),
                to_staff_id=event.manager_id,
                breached=event.breached,
                deadline=task.deadline,
                to_phone=event.to_phone,
                to_email=event.to_email,
                caller_phone=task.customer_phone,
            )
        case "Closed":
            return tasks.CallbackTaskClosed(
                **common, outcome=tasks.TaskOutcome(event.outcome), booking_id=event.booking_id
            )
    return None


def _message_event(message: InboundMessage, name: str) -> Message | None:
    common: dict[str, Any] = {"tenant_id": message.tenant_id, "aggregate_id": str(message.id)}
    match name:
        case "Received" if message.channel == "whatsapp":
            return calls.WhatsAppMessageReceived(
                **common,
                message_id=message.message_id,
                from_phone=message.from_phone,
                to_phone=message.to_phone,
                text=message.text,
                booking_intent=message.booking_intent,
                lead_id=None if message.booking_intent else message.lead_id,
            )
        case "LeadCaptured":
            return calls.LeadCaptured(
                **common,
                lead_id=message.lead_id,
                phone=message.from_phone,
                channel=MessageChannel.WHATSAPP
                if message.channel == "whatsapp"
                else MessageChannel.SMS,
                text=message.text,
            )
        case "BookingForwarded":
            return _booking_request(message)
    return None


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


def subscriptions(application: ServiceApplication) -> Sequence[Subscription]:
    """Opt-outs from the notifier and confirmed bookings, each applied exactly once."""
    if not isinstance(application, CallIntakeApplication):
        return ()
    return (
        Subscription(
            NOTIFICATIONS_EVENTS,
            effect=consent_changes(application),
            handles=frozenset({"ConsentChanged"}),
        ),
        Subscription(
            BOOKING_EVENTS,
            effect=confirmed_bookings(application),
            handles=frozenset({"BookingConfirmed"}),
        ),
    )


def consent_changes(app: CallIntakeApplication) -> Callable[[Message, Tracking], None]:
    def apply(message: Message, tracking: Tracking) -> None:
        if isinstance(message, notifications.ConsentChanged) and message.phone:
            app.consent_changed(
                message.tenant_id,
                message.phone,
                message.scope.value,
                message.granted,
                message.keyword,
                tracking,
            )

    return apply


def confirmed_bookings(app: CallIntakeApplication) -> Callable[[Message, Tracking], None]:
    def apply(message: Message, tracking: Tracking) -> None:
        if isinstance(message, booking.BookingConfirmed) and message.contact.phone:
            app.booking_confirmed(
                message.tenant_id,
                message.contact.phone,
                message.booking_id,
                message.source_call_id,
                tracking,
            )

    return apply
