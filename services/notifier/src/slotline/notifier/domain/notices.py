"""Which messages a booking change produces, on which channels, under which keys.

A booking notice goes to every channel the customer can be reached on and agreed
to: e-mail when there is an address, one text channel (WhatsApp first when they
booked on WhatsApp, then SMS) when there is a phone number and transactional
consent. Each channel is its own queue row with its own idempotency key
(booking × purpose × channel); a failed text channel falls back to the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from slotline.notifier.domain.booking_card import BookingCard
from slotline.notifier.domain.outgoing import EMAIL, SMS, WHATSAPP, QueuedMessage
from slotline.notifier.domain.reminders import PlannedReminder


def booking_channels(card: BookingCard) -> list[tuple[str, ...]]:
    """One channel list per queue row: the target first, then its fallbacks."""
    rows: list[tuple[str, ...]] = []
    if card.email:
        rows.append((EMAIL,))
    if card.phone and card.transactional_consent:
        rows.append((WHATSAPP, SMS) if card.via_whatsapp else (SMS,))
    return rows


@dataclass(frozen=True)
class Notice:
    """One notice about a booking: what it is for (``purpose``, unique per booking), the
    template it is written with and when it is due; perhaps a calendar file (e-mail
    only), more template variables, a time after which it is no use, the reminder it is,
    or that it goes by text only.

    ``answers_change``: the notice answers a change just made to the booking (confirmed,
    moved, cancelled), so it goes at once, quiet hours or not — someone who books at
    22:30 waits for the confirmation, and a cancelled 08:30 appointment cannot wait for
    08:00. Quiet hours hold back what comes unprompted: reminders, refund texts."""

    purpose: str
    template: str
    due_at: datetime
    calendar: str | None = None
    variables: dict[str, str] | None = None
    useful_until: datetime | None = None
    reminder_kind: str | None = None
    text_only: bool = False
    answers_change: bool = False


def booking_notice(card: BookingCard, notice: Notice) -> list[QueuedMessage]:
    """The queue rows of ``notice`` about ``card``, one per channel it goes by."""
    notification_id = f"{card.booking_id}:{notice.purpose}"
    rows = []
    for channels in booking_channels(card):
        if notice.text_only and channels[0] == EMAIL:
            continue
        rows.append(
            QueuedMessage(
                tenant_id=card.tenant_id,
                key=f"{notification_id}:{channels[0]}",
                notification_id=notification_id,
                template=notice.template,
                language=card.language,
                channels=channels,
                due_at=notice.due_at,
                variables={**card.template_variables(), **(notice.variables or {})},
                to_phone=card.phone,
                to_email=card.email,
                urgent=notice.answers_change,
                zone=card.time_zone,
                useful_until=notice.useful_until,
                booking_id=card.booking_id,
                reminder_kind=notice.reminder_kind,
                calendar=notice.calendar if channels[0] == EMAIL else None,
            )
        )
    return rows


def reminder_notices(card: BookingCard, reminder: PlannedReminder) -> list[QueuedMessage]:
    """A reminder's rows; the generation in the key lets a moved booking be reminded again."""
    return booking_notice(
        card,
        Notice(
            f"reminder:{reminder.kind.name}:{card.generation}",
            "booking_reminder",
            reminder.due_at,
            useful_until=reminder.useful_until,
            reminder_kind=reminder.kind.name,
        ),
    )


GREEK_COUNTRY_CODES = ("+30", "+357")


def language_for(phone: str | None, given: str | None, default: str) -> str:
    """The language to write in: the one given, Greek for Greek and Cypriot numbers."""
    if given:
        return given
    if phone and phone.startswith(GREEK_COUNTRY_CODES):
        return "el"
    return default
