"""A customer timeline's line in the page's language. Booking sends each line's
``kind`` and its variable parts (``facts``); the words are the web's own, from its
catalogue. A kind this table does not know (a newer booking service), or a line
without the facts it needs (written before lines carried them), shows booking's
English ``summary`` instead."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slotline.events.contract.timeline import LineKind
from slotline.web.i18n import _, day, money, time_of

Facts = dict[str, Any]

_WORDS: dict[str, Callable[[], str]] = {
    # why a call counts as missed
    "no_answer": lambda: _("no answer"),
    "busy": lambda: _("busy"),
    "failed": lambda: _("failed"),
    "canceled": lambda: _("hung up"),
    "machine_answered": lambda: _("answering machine"),
    "voicemail": lambda: _("voicemail"),
    # channels
    "email": lambda: _("e-mail"),
    "sms": lambda: _("SMS"),
    "whatsapp": lambda: _("WhatsApp"),
    # callbacks
    "reached": lambda: _("reached"),
    "left_message": lambda: _("left a message"),
    "booked": lambda: _("booked"),
    "gave_up": lambda: _("gave up"),
    # consent
    "transactional": lambda: _("service messages"),
    "marketing": lambda: _("marketing"),
    "all": lambda: _("all messages"),
    # payments
    "declined": lambda: _("card declined"),
    "insufficient_funds": lambda: _("insufficient funds"),
    "authentication_required": lambda: _("card check needed"),
    "network_timeout": lambda: _("network timeout"),
    "expired_card": lambda: _("expired card"),
    "processing_error": lambda: _("processing error"),
    "late_cancellation": lambda: _("late cancellation"),
    "no_show": lambda: _("no-show"),
    "change": lambda: _("change"),
}


def word(value: object) -> str:
    """A known code in the page's language; an unknown one as readable as it gets."""
    text = str(value or "")
    found = _WORDS.get(text)
    return found() if found else text.replace("_", " ")


def _when(facts: Facts, key: str) -> str:
    moment = datetime.fromisoformat(str(facts[key]))
    zone = facts.get("time_zone")
    if zone:
        moment = moment.astimezone(ZoneInfo(str(zone)))
    return f"{day(moment.date(), 'EEE d MMM')} {time_of(moment)}"


def _consent(f: Facts) -> str:
    if f["granted"]:
        return _("Opted in (%(scope)s)") % {"scope": word(f["scope"])}
    return _("Opted out (%(scope)s)") % {"scope": word(f["scope"])}


def _voicemail(f: Facts) -> str:
    said = f": {f['transcription']}" if f.get("transcription") else ""
    return _("Left a voicemail (%(seconds)s s)") % {"seconds": f["duration_seconds"]} + said


def _booking(f: Facts) -> dict[str, str]:
    return {
        "service": str(f["service"]),
        "when": _when(f, "start"),
        "reference": str(f["reference"]),
        "reason": word(f.get("reason")),
    }


_SAYINGS: dict[LineKind, Callable[[Facts], str]] = {
    LineKind.CALL_RECEIVED: lambda f: _("Called %(number)s") % {"number": f["to_phone"]},
    LineKind.CALL_ANSWERED: lambda f: _("Call answered"),
    LineKind.CALL_MISSED: lambda f: _("Missed call (%(reason)s)") % {"reason": word(f["reason"])},
    LineKind.VOICEMAIL_RECORDED: _voicemail,
    LineKind.WHATSAPP_MESSAGE_RECEIVED: lambda f: _("WhatsApp: %(text)s") % {"text": f["text"]},
    LineKind.LEAD_CAPTURED: lambda f: (
        _("New lead via %(channel)s") % {"channel": word(f["channel"])}
    ),
    LineKind.CALLBACK_TASK_CREATED: lambda f: (
        _("Callback due by %(when)s") % {"when": _when(f, "deadline")}
    ),
    LineKind.CALLBACK_ATTEMPT_RECORDED: lambda f: (
        _("Called back: %(result)s") % {"result": word(f["result"])}
    ),
    LineKind.CALLBACK_TASK_CLOSED: lambda f: (
        _("Callback closed: %(outcome)s") % {"outcome": word(f["outcome"])}
    ),
    LineKind.NOTIFICATION_REQUESTED: lambda f: (
        _("Message queued: %(what)s") % {"what": word(f["template"])}
    ),
    LineKind.TEXT_BACK_REQUESTED: lambda f: _("Missed-call text-back requested"),
    LineKind.NOTIFICATION_SENT: lambda f: (
        _("%(what)s sent by %(channel)s")
        % {"what": word(f["template"] or "message"), "channel": word(f["channel"])}
    ),
    LineKind.NOTIFICATION_FAILED: lambda f: (
        _("%(what)s failed on %(channel)s")
        % {"what": word(f["template"] or "message"), "channel": word(f["channel"])}
    ),
    LineKind.REMINDER_SCHEDULED: lambda f: (
        _("%(reminder)s reminder due %(when)s")
        % {"reminder": f["reminder"], "when": _when(f, "due_at")}
    ),
    LineKind.REMINDER_SKIPPED: lambda f: (
        _("%(reminder)s reminder not sent (%(reason)s)")
        % {"reminder": f["reminder"], "reason": word(f["reason"])}
    ),
    LineKind.CONSENT_CHANGED: _consent,
    LineKind.PAYMENT_AUTHORIZED: lambda f: (
        _("Payment of %(amount)s authorised") % {"amount": money(f["amount"])}
    ),
    LineKind.PAYMENT_AUTHORIZATION_FAILED: lambda f: (
        _("Payment failed (%(reason)s)") % {"reason": word(f["reason"])}
    ),
    LineKind.PAYMENT_CAPTURED: lambda f: _("Paid %(amount)s") % {"amount": money(f["amount"])},
    LineKind.PAYMENT_REFUNDED: lambda f: _("Refunded %(amount)s") % {"amount": money(f["amount"])},
    LineKind.FEE_CHARGED: lambda f: (
        _("Fee for %(fee)s: %(amount)s") % {"fee": word(f["fee"]), "amount": money(f["amount"])}
    ),
    LineKind.BOOKING_CONFIRMED: lambda f: (
        _("Booked %(service)s for %(when)s (%(reference)s)") % _booking(f)
    ),
    LineKind.BOOKING_REJECTED: lambda f: (
        _("Booking of %(service)s for %(when)s refused: %(reason)s") % _booking(f)
    ),
    LineKind.BOOKING_EXPIRED: lambda f: (
        _("Booking of %(service)s expired unconfirmed") % _booking(f)
    ),
    LineKind.BOOKING_CANCELLED: lambda f: _("Cancelled %(service)s of %(when)s") % _booking(f),
    LineKind.BOOKING_RESCHEDULED: lambda f: _("Moved %(service)s to %(when)s") % _booking(f),
    LineKind.BOOKING_CHANGE_REFUSED: lambda f: (
        _("Could not move %(service)s: %(reason)s")
        % {**_booking(f), "reason": word(f.get("change_reason"))}
    ),
    LineKind.BOOKING_ARRIVED: lambda f: _("Arrived for %(service)s of %(when)s") % _booking(f),
    LineKind.BOOKING_COMPLETED: lambda f: _("Came for %(service)s") % _booking(f),
    LineKind.BOOKING_NO_SHOW: lambda f: _("Did not come for %(service)s of %(when)s") % _booking(f),
}
"""How each kind of line reads (booking's timeline contract names every kind)."""


def line_text(line: dict[str, Any]) -> str:
    """The line in the current language, or booking's ``summary`` when it cannot be."""
    try:
        saying = _SAYINGS.get(LineKind(str(line.get("kind"))))
    except ValueError:
        saying = None  # a kind of a newer booking service
    facts = line.get("facts")
    if saying is None or not isinstance(facts, dict):
        return str(line.get("summary", ""))
    try:
        return saying(facts)
    except (KeyError, TypeError, ValueError):
        return str(line.get("summary", ""))
