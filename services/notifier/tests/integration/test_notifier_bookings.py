"""The notifier over a real broker, PostgreSQL, SMTP server and provider simulator:
confirmations with .ics, reminders on a controllable clock, cancellations, moves."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Component

from slotline.events.contract import booking as bookings
from slotline.events.contract.common import TimeSlot
from slotline.events.contract.notifications import (
    NotificationSent,
    ReminderScheduled,
    ReminderSkipped,
)
from slotline.events.testing.reading import eventually
from slotline.events.testing.service import RunningService
from slotline.notifier.simulator import ProviderSimulator
from slotline.notifier.testing import (
    MailServer,
    TestClock,
    confirmed,
    greek_mobile,
    local_time,
    new_tenant,
    notifications_of,
    publish,
    settle,
)

pytestmark = pytest.mark.integration

ATHENS = ZoneInfo("Europe/Athens")


def calendar_of(mail: object) -> Calendar:
    from email.message import EmailMessage

    assert isinstance(mail, EmailMessage)
    parts = [p for p in mail.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, "exactly one calendar file"
    payload = parts[0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    return Calendar.from_ical(payload)


def sequence_of(vevent: Component) -> int:
    """A calendar event's SEQUENCE (icalendar reads it as a ``vInt``, an ``int``)."""
    sequence = vevent["SEQUENCE"]
    assert isinstance(sequence, int)
    return int(sequence)


class TestConfirmation:
    async def test_a_confirmed_booking_sends_one_email_with_a_valid_ics_at_local_time(
        self, service: RunningService, mail_server: MailServer, clock: TestClock
    ) -> None:
        tenant = new_tenant()
        email = f"{uuid.uuid4().hex[:8]}@example.com"
        start = clock.now + timedelta(days=3)
        event = confirmed(tenant, start, email=email)
        await publish(service, event)

        await eventually(lambda: mail_server.to(email), timeout=20)
        await settle()
        mails = mail_server.to(email)
        assert len(mails) == 1
        mail = mails[0]
        local = start.astimezone(ATHENS)
        assert mail["Subject"] == (
            f"Booking confirmed: Massage 60 on {local:%Y-%m-%d} at {local:%H:%M}"
        )
        body = mail.get_body(preferencelist=("plain",))
        assert body is not None
        assert "Skoufa 10, Athens" in body.get_content()
        calendar = calendar_of(mail)
        vevent = calendar.walk("VEVENT")[0]
        assert vevent.decoded("dtstart") == local
        assert str(vevent.decoded("dtstart").tzinfo) == "Europe/Athens"
        assert str(vevent["UID"]) == f"{event.booking_id}@{tenant}.slotline"
        assert str(calendar["METHOD"]) == "REQUEST"

        async def sent() -> list[dict[str, Any]]:
            return await notifications_of(service, tenant, NotificationSent)

        await eventually(sent, timeout=10)
        [message] = await sent()
        assert message["booking_id"] == event.booking_id, "a timeline can tie it to the booking"
        assert message["template"] == "booking_confirmed"
        scheduled = await notifications_of(service, tenant, ReminderScheduled)
        assert sorted(m["kind"] for m in scheduled) == ["1h", "24h"]


def texts(provider: tuple[ProviderSimulator, str], phone: str) -> list[dict[str, object]]:
    return provider[0].to(phone)


class TestQuietHours:
    async def test_a_confirmation_and_a_cancellation_at_night_go_at_once(
        self, service: RunningService, provider: tuple[ProviderSimulator, str], clock: TestClock
    ) -> None:
        """Someone who books at 23:00 waits for the confirmation, and a cancelled early
        appointment cannot wait for 08:00; quiet hours hold back only what comes unprompted."""
        tenant, phone = new_tenant(), greek_mobile()
        clock.move_to(local_time(clock, 1, 23))  # 23:00 in Athens
        start = local_time(clock, 1, 10)  # 10:00 the next morning
        event = confirmed(tenant, start, phone=phone)
        await publish(service, event)
        await eventually(lambda: texts(provider, phone), timeout=10)
        assert str(texts(provider, phone)[0]["Body"]).startswith("Booked: Massage 60")
        await publish(
            service,
            bookings.BookingCancelled(
                tenant_id=tenant,
                aggregate_id=event.booking_id,
                sequence=event.sequence + 1,
                booking_id=event.booking_id,
                by=bookings.Actor.STAFF,
                within_free_window=True,
            ),
        )
        await eventually(lambda: len(texts(provider, phone)) == 2, timeout=10)
        assert "cancel" in str(texts(provider, phone)[1]["Body"]).lower()


class TestReminders:
    async def test_reminders_fire_at_24h_and_1h_on_every_channel_and_never_twice(
        self,
        service: RunningService,
        mail_server: MailServer,
        provider: tuple[ProviderSimulator, str],
        clock: TestClock,
    ) -> None:
        tenant, email, phone = new_tenant(), f"{uuid.uuid4().hex[:8]}@example.com", greek_mobile()
        start = local_time(clock, 2, 14)
        await publish(service, confirmed(tenant, start, email=email, phone=phone))
        await eventually(lambda: mail_server.to(email) and texts(provider, phone))

        clock.move_to(start - timedelta(hours=24) - timedelta(minutes=1))
        await settle(1.0)
        assert len(mail_server.to(email)) == 1, "not before it is due"

        clock.move_to(start - timedelta(hours=24) + timedelta(seconds=1))
        await eventually(
            lambda: len(mail_server.to(email)) == 2 and len(texts(provider, phone)) == 2
        )
        assert mail_server.to(email)[1]["Subject"].startswith("Reminder: Massage 60")
        assert str(texts(provider, phone)[1]["Body"]).startswith("Reminder: Massage 60")

        clock.move_to(start - timedelta(hours=1) + timedelta(seconds=1))
        await eventually(
            lambda: len(mail_server.to(email)) == 3 and len(texts(provider, phone)) == 3
        )
        clock.advance(timedelta(minutes=5))
        await settle(1.5)
        assert len(mail_server.to(email)) == 3
        assert len(texts(provider, phone)) == 3

        sent = await notifications_of(service, tenant, NotificationSent)
        assert sorted((m["notification_id"].split(":", 1)[1], m["channel"]) for m in sent) == [
            ("confirmed", "email"),
            ("confirmed", "sms"),
            ("reminder:1h:0", "email"),
            ("reminder:1h:0", "sms"),
            ("reminder:24h:0", "email"),
            ("reminder:24h:0", "sms"),
        ]

    async def test_a_booking_confirmed_within_the_hour_gets_its_confirmation_and_no_reminder(
        self,
        service: RunningService,
        provider: tuple[ProviderSimulator, str],
        clock: TestClock,
    ) -> None:
        """The 1 h reminder of a booking 50 minutes away was due before the booking
        existed: the confirmation says it all (it was sent, before the confirmation)."""
        tenant, phone = new_tenant(), greek_mobile()
        start = clock.now + timedelta(minutes=50)
        await publish(service, confirmed(tenant, start, phone=phone))
        await eventually(lambda: texts(provider, phone))
        clock.advance(timedelta(minutes=1))
        await settle(1.5)
        bodies = [str(t["Body"]) for t in texts(provider, phone)]
        assert len(bodies) == 1, bodies
        assert not bodies[0].startswith("Reminder"), bodies
        skipped = await notifications_of(service, tenant, ReminderSkipped)
        assert sorted((m["kind"], m["reason"]) for m in skipped) == [
            ("1h", "too_late"),
            ("24h", "too_late"),
        ]

    async def test_a_cancelled_booking_gets_a_cancel_ics_and_no_reminders(
        self, service: RunningService, mail_server: MailServer, clock: TestClock
    ) -> None:
        tenant, email = new_tenant(), f"{uuid.uuid4().hex[:8]}@example.com"
        start = local_time(clock, 2, 15)
        event = confirmed(tenant, start, email=email)
        await publish(service, event)
        await eventually(lambda: mail_server.to(email))
        await publish(
            service,
            bookings.BookingCancelled(
                tenant_id=tenant,
                aggregate_id=event.booking_id,
                sequence=event.sequence + 1,
                booking_id=event.booking_id,
                by=bookings.Actor.CUSTOMER,
                within_free_window=True,
            ),
        )
        await eventually(lambda: len(mail_server.to(email)) == 2)
        cancel = calendar_of(mail_server.to(email)[1])
        assert str(cancel["METHOD"]) == "CANCEL"
        vevent = cancel.walk("VEVENT")[0]
        assert sequence_of(vevent) == 1
        assert str(vevent["UID"]) == f"{event.booking_id}@{tenant}.slotline"

        clock.move_to(start - timedelta(minutes=30))
        await settle(1.5)
        assert len(mail_server.to(email)) == 2, "no reminder for a cancelled booking"
        skipped = await notifications_of(service, tenant, ReminderSkipped)
        assert sorted((m["kind"], m["reason"]) for m in skipped) == [
            ("1h", "cancelled"),
            ("24h", "cancelled"),
        ]

    async def test_a_moved_booking_is_reminded_of_its_new_time_with_sequence_bumped(
        self, service: RunningService, mail_server: MailServer, clock: TestClock
    ) -> None:
        tenant, email = new_tenant(), f"{uuid.uuid4().hex[:8]}@example.com"
        first = local_time(clock, 2, 11)
        moved_to = local_time(clock, 4, 16)
        event = confirmed(tenant, first, email=email)
        await publish(service, event)
        await eventually(lambda: mail_server.to(email))
        await publish(
            service,
            bookings.BookingRescheduled(
                tenant_id=tenant,
                aggregate_id=event.booking_id,
                sequence=event.sequence + 1,
                booking_id=event.booking_id,
                by=bookings.Actor.CUSTOMER,
                previous_slot=event.slot,
                slot=TimeSlot(start=moved_to, end=moved_to + timedelta(hours=1)),
                resource_ids=["staff-2"],
                change_number=1,
            ),
        )
        await eventually(lambda: len(mail_server.to(email)) == 2)
        notice = mail_server.to(email)[1]
        assert notice["Subject"].startswith("Booking moved")
        vevent = calendar_of(notice).walk("VEVENT")[0]
        assert sequence_of(vevent) == 1
        assert vevent.decoded("dtstart") == moved_to.astimezone(ATHENS)

        clock.move_to(first - timedelta(minutes=30))  # the old times pass silently
        await settle(1.5)
        assert len(mail_server.to(email)) == 2
        clock.move_to(moved_to - timedelta(hours=24) + timedelta(seconds=1))
        await eventually(lambda: len(mail_server.to(email)) == 3)
        assert mail_server.to(email)[2]["Subject"] == (
            f"Reminder: Massage 60 on {moved_to.astimezone(ATHENS):%Y-%m-%d at %H:%M}"
        )
        skipped = await notifications_of(service, tenant, ReminderSkipped)
        assert {(m["kind"], m["reason"]) for m in skipped} == {
            ("1h", "rescheduled"),
            ("24h", "rescheduled"),
        }
