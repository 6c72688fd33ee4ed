"""The notifier over a real broker, PostgreSQL, SMTP server and provider simulator:
confirmations with .ics, reminders on a controllable clock, cancellations, moves."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from slotline.events.testing.reading import eventually
from slotline.events.testing.service import RunningService, running
from slotline.notifier.simulator import ProviderSimulator
from slotline.notifier.testing import (
    MailServer,
    TestClock,
    confirmed,
    new_tenant,
    notifications_of,
    notifier_settings,
    publish,
    settle,
)
from slotline.notifier.wiring import service_spec

pytestmark = pytest.mark.integration

ATHENS = ZoneInfo("Europe/Athens")


@pytest.fixture(scope="module")
def clock() -> TestClock:
    return TestClock()


@pytest.fixture(scope="module")
async def service(
    module_database_url: str,
    module_kafka_bootstrap: str,
    mail_server: MailServer,
    provider: tuple[ProviderSimulator, str],
    clock: TestClock,
) -> AsyncIterator[RunningService]:
    settings = notifier_settings(module_database_url, module_kafka_bootstrap, mail_server, provider)
    async with running(service_spec(settings, clock=clock)) as running_service:
        yield running_service


def calendar_of(mail: object) -> Calendar:
    from email.message import EmailMessage

    assert isinstance(mail, EmailMessage)
    parts = [p for p in mail.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, "exactly one calendar file"
    return Calendar.from_ical(parts[0].get_payload(decode=True))


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

        async def sent() -> list[object]:
            return await notifications_of(service, tenant, "NotificationSent")

        await eventually(sent, timeout=10)
        scheduled = await notifications_of(service, tenant, "ReminderScheduled")
        assert sorted(m["kind"] for m in scheduled) == ["1h", "24h"]
