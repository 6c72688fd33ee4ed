"""The customer timeline's lines from other services: calls and callback tasks
(``calls.events.v1``), messages and consent (``notifications.events.v1``) and money
(``payments.events.v1``). Each message becomes at most one line, written in the
inbox batch's unit of work with its position."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from slotline.booking.application.directory import CustomerDirectory
from slotline.booking.domain.contact import ContactDetails
from slotline.booking.live import board
from slotline.booking.live.board import Entry
from slotline.events.contract import callbacks, calls, notifications, payments
from slotline.events.contract.timeline import LineKind
from slotline.events.envelope import Message
from slotline.events.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from slotline.booking.application import BookingApplication


def _amount(money: Any) -> str:
    return f"{money.amount_minor / 100:.2f} {money.currency}"


def _money(money: Any) -> dict[str, Any]:
    return {"amount_minor": money.amount_minor, "currency": money.currency}


def _what(template: str | None) -> str:
    """``booking_reminder`` → "Booking reminder" (older events name no template)."""
    return template.replace("_", " ").capitalize() if template else "Message"


def entry_for(message: Message) -> Entry | None:
    """The timeline line a message makes, or None for messages no one needs to see."""
    kind = LineKind.of(type(message))
    if kind is None:
        return None  # no line kind stands for it: no one needs to see it
    base: dict[str, Any] = {
        "entry_id": str(message.event_id),
        "tenant_id": message.tenant_id,
        "occurred_at": message.occurred_at,
        "kind": kind,
    }
    match message:
        case calls.CallReceived():
            return Entry(
                **base,
                summary=f"Called {message.to_phone}",
                facts={"to_phone": message.to_phone},
                phone=message.from_phone,
                call_id=message.call_id,
            )
        case calls.CallAnswered():
            return Entry(**base, summary="Call answered", call_id=message.call_id)
        case calls.CallMissed():
            return Entry(
                **base,
                summary=f"Missed call ({message.reason.value})",
                facts={"reason": message.reason.value},
                phone=message.from_phone,
                call_id=message.call_id,
            )
        case calls.VoicemailRecorded():
            text = f": {message.transcription[:200]}" if message.transcription else ""
            return Entry(
                **base,
                summary=f"Left a voicemail ({message.duration_seconds} s){text}",
                facts={
                    "duration_seconds": message.duration_seconds,
                    "transcription": (message.transcription or "")[:200] or None,
                },
                call_id=message.call_id,
            )
        case calls.WhatsAppMessageReceived():
            return Entry(
                **base,
                summary=f"WhatsApp: {(message.text or '')[:200]}",
                facts={"text": (message.text or "")[:200]},
                phone=message.from_phone,
            )
        case calls.LeadCaptured():
            return Entry(
                **base,
                summary=f"New lead via {message.channel.value}",
                facts={"channel": message.channel.value},
                phone=message.phone,
                name=message.name,
            )
        case callbacks.CallbackTaskCreated():
            return Entry(
                **base,
                summary=f"Callback due by {message.deadline.isoformat()}",
                facts={"deadline": message.deadline.isoformat()},
                phone=message.customer_phone,
                call_id=message.call_id,
                task_id=message.task_id,
            )
        case callbacks.CallbackAttemptRecorded():
            return Entry(
                **base,
                summary=f"Called back: {message.result.value}",
                facts={"result": message.result.value},
                task_id=message.task_id,
            )
        case callbacks.CallbackTaskClosed():
            return Entry(
                **base,
                summary=f"Callback closed: {message.outcome.value}",
                facts={"outcome": message.outcome.value},
                task_id=message.task_id,
                booking_id=message.booking_id,
            )
        case notifications.NotificationRequested():
            return Entry(
                **base,
                summary=f"Message '{message.template}' queued",
                facts={"template": message.template},
                phone=message.to_phone,
                email=message.to_email,
                notification_id=message.notification_id,
            )
        case notifications.TextBackRequested():
            return Entry(
                **base,
                summary="Missed-call text-back requested",
                phone=message.to_phone,
                call_id=message.call_id,
            )
        case notifications.NotificationSent():
            return Entry(
                **base,
                summary=f"{_what(message.template)} sent by {message.channel.value}",
                facts={"template": message.template, "channel": message.channel.value},
                notification_id=message.notification_id,
                booking_id=message.booking_id,
            )
        case notifications.NotificationFailed():
            return Entry(
                **base,
                summary=f"{_what(message.template)} failed on {message.channel.value}",
                facts={"template": message.template, "channel": message.channel.value},
                notification_id=message.notification_id,
                booking_id=message.booking_id,
            )
        case notifications.ReminderScheduled():
            return Entry(
                **base,
                summary=f"{message.kind} reminder due {message.due_at.isoformat()}",
                facts={"reminder": message.kind, "due_at": message.due_at.isoformat()},
                booking_id=message.booking_id,
            )
        case notifications.ReminderSkipped():
            return Entry(
                **base,
                summary=f"{message.kind} reminder not sent ({message.reason})",
                facts={"reminder": message.kind, "reason": message.reason},
                booking_id=message.booking_id,
            )
        case notifications.ConsentChanged():
            state = "opted in" if message.granted else "opted out"
            return Entry(
                **base,
                summary=f"{state} ({message.scope.value})",
                facts={"granted": message.granted, "scope": message.scope.value},
                phone=message.phone,
                email=message.email,
            )
        case payments.PaymentAuthorized():
            return Entry(
                **base,
                summary=f"Payment of {_amount(message.amount)} authorised",
                facts={"amount": _money(message.amount)},
                booking_id=message.booking_id,
            )
        case payments.PaymentAuthorizationFailed():
            return Entry(
                **base,
                summary=f"Payment failed ({message.reason.value})",
                facts={"reason": message.reason.value},
                booking_id=message.booking_id,
            )
        case payments.PaymentCaptured():
            return Entry(
                **base,
                summary=f"Paid {_amount(message.amount)}",
                facts={"amount": _money(message.amount)},
                booking_id=message.booking_id,
            )
        case payments.PaymentRefunded():
            return Entry(
                **base,
                summary=f"Refunded {_amount(message.amount)}",
                facts={"amount": _money(message.amount)},
                booking_id=message.booking_id,
            )
        case payments.FeeCharged():
            return Entry(
                **base,
                summary=f"{message.fee.value} fee {_amount(message.amount)}",
                facts={"fee": message.fee.value, "amount": _money(message.amount)},
                booking_id=message.booking_id,
            )
    return None


def with_caller(entry: Entry, directory: CustomerDirectory) -> Entry:
    """The line tied to the customer id of its phone (the directory gives a caller who
    never booked an id, so they are found by it, and a later booking by that phone has
    the same id)."""
    if entry.phone is None:
        return entry
    key = ContactDetails(name="caller", phone=entry.phone).customer_key
    return replace(entry, caller_id=directory.find_or_add(entry.tenant_id, key))


class Timeline:
    """Writes the lines of consumed messages (the inbox effect for those topics)."""

    def __init__(self, application: BookingApplication) -> None:
        self.application = application
        self.schema = application.schema

    def handle(self, message: Message, work: UnitOfWork) -> None:
        """Write the message's line, if it makes one, in the batch's unit of work."""
        entry = entry_for(message)
        if entry is not None:
            line = with_caller(entry, self.application.directory)
            board.add_entries(work.cursor, self.schema, [line], self.application.read_seal)
