"""Channels, consent and requests over the real broker, SMTP server and provider
simulator: text-backs, STOP/START/HELP, outages with retries and fallback, the WhatsApp
window, delivery reports, quiet hours, receipts, staff feeds and bad input."""

from __future__ import annotations

import uuid
from datetime import timedelta

import anyio
import pytest
from icalendar import Calendar

from slotline.events.contract import calls, payments
from slotline.events.contract import notifications as requests
from slotline.events.contract.common import MessageChannel, Money
from slotline.events.contract.notifications import (
    ConsentChanged,
    NotificationDelivered,
    NotificationFailed,
    NotificationSent,
    ReminderScheduled,
)
from slotline.events.testing.reading import eventually
from slotline.events.testing.service import RunningService, bearer
from slotline.events.testing.stored import stored_tables
from slotline.events.topics import BOOKING_EVENTS, NOTIFICATIONS_EVENTS
from slotline.notifier.calendar_files import FeedTokens
from slotline.notifier.settings import NotifierSettings
from slotline.notifier.simulator import ProviderSimulator
from slotline.notifier.testing import (
    MailServer,
    TestClock,
    confirmed,
    dead_letters_of,
    greek_mobile,
    local_time,
    new_tenant,
    notifications_of,
    publish,
    send_signed,
    settle,
)

pytestmark = pytest.mark.integration

CLINIC_LINE = "+302101234567"


def text_back(
    tenant: str, phone: str, channel: MessageChannel = MessageChannel.SMS
) -> requests.TextBackRequested:
    call_id = f"call-{uuid.uuid4().hex[:8]}"
    return requests.TextBackRequested(
        tenant_id=tenant,
        aggregate_id=call_id,
        call_id=call_id,
        to_phone=phone,
        from_phone=CLINIC_LINE,
        channel=channel,
        business_name="Kifisia Dental",
        booking_url="https://book.example/kifisia?c=1",
    )


def notifier_settings(service: RunningService) -> NotifierSettings:
    settings = service.runtime.settings
    assert isinstance(settings, NotifierSettings)
    return settings


def request(tenant: str, **fields: object) -> requests.NotificationRequested:
    key = uuid.uuid4().hex[:10]
    values: dict[str, object] = {
        "tenant_id": tenant,
        "aggregate_id": f"req-{key}",
        "notification_id": f"n-{key}",
        "idempotency_key": key,
        "template": "text_back",
        "channels": [MessageChannel.SMS],
        "variables": {
            "business_name": "Acme",
            "booking_url": "https://b.example",
            "after_hours": "",
        },
    }
    values.update(fields)
    return requests.NotificationRequested(**values)


async def stop_reply(
    service: RunningService, tenant: str, phone: str, word: str, token: str
) -> int:
    return await send_signed(
        service,
        f"/providers/twilio/{tenant}/sms",
        {"From": phone, "To": CLINIC_LINE, "Body": word, "MessageSid": f"SM{uuid.uuid4().hex}"},
        token,
    )


async def text_back_sent(
    service: RunningService,
    simulator: ProviderSimulator,
    channel: MessageChannel = MessageChannel.SMS,
) -> tuple[str, str]:
    """A new tenant's caller is sent a text-back (the provider accepted it): (tenant, phone)."""
    tenant, phone = new_tenant(), greek_mobile()
    await publish(service, text_back(tenant, phone, channel))
    await eventually(lambda: simulator.to(phone), timeout=10)
    return tenant, phone


class TestTextBack:
    async def test_a_missed_call_text_goes_out_at_once_from_the_number_dialled(
        self, service: RunningService, provider: tuple[ProviderSimulator, str]
    ) -> None:
        simulator, _ = provider
        tenant, phone = await text_back_sent(service, simulator)
        [text] = simulator.to(phone)
        assert text["From"] == CLINIC_LINE
        assert "https://book.example/kifisia?c=1" in text["Body"]
        assert text["Body"].startswith("Λυπούμαστε"), "a Greek number is written to in Greek"
        sent = await notifications_of(service, tenant, NotificationSent)
        assert [(m["channel"], m["provider_reference"]) for m in sent] == [("sms", text["sid"])]

    async def test_a_provider_outage_is_retried_and_the_text_sent_once(
        self, service: RunningService, provider: tuple[ProviderSimulator, str]
    ) -> None:
        simulator, _ = provider
        tenant, phone = new_tenant(), greek_mobile()
        simulator.outage_requests = 2  # two 503s, then the provider is back
        before = simulator.requests
        await publish(service, text_back(tenant, phone))
        await eventually(lambda: simulator.to(phone), timeout=10)
        await settle()
        assert len(simulator.to(phone)) == 1
        assert simulator.requests - before == 3

    async def test_a_long_outage_falls_back_to_the_next_channel(
        self,
        service: RunningService,
        provider: tuple[ProviderSimulator, str],
        mail_server: MailServer,
    ) -> None:
        simulator, _ = provider
        tenant, phone, email = new_tenant(), greek_mobile(), f"{uuid.uuid4().hex[:8]}@example.com"
        simulator.outage_requests = 3  # every attempt on SMS fails
        await publish(
            service,
            request(
                tenant,
                template="escalation",
                channels=[MessageChannel.SMS, MessageChannel.EMAIL],
                to_phone=phone,
                to_email=email,
                urgent=True,
                variables={
                    "task_id": "t-1",
                    "deadline": "2026-12-01T10:15",
                    "breached": "yes",
                    "caller_phone": "+306900000001",
                },
            ),
        )
        await eventually(lambda: mail_server.to(email), timeout=15)
        assert simulator.to(phone) == []
        assert mail_server.to(email)[0]["Subject"] == "Callback overdue: +306900000001"
        failed = await notifications_of(service, tenant, NotificationFailed)
        assert [(f["channel"], f["permanent"], f["fallback"]) for f in failed] == [
            ("sms", False, "email")
        ]
        assert "503" in failed[0]["reason"]

    async def test_a_number_the_provider_refuses_falls_back_at_once(
        self,
        service: RunningService,
        provider: tuple[ProviderSimulator, str],
        mail_server: MailServer,
    ) -> None:
        simulator, _ = provider
        tenant, phone, email = new_tenant(), greek_mobile(), f"{uuid.uuid4().hex[:8]}@example.com"
        simulator.unsubscribed.add(phone)
        before = simulator.requests
        await publish(
            service,
            request(
                tenant,
                channels=[MessageChannel.SMS, MessageChannel.EMAIL],
                to_phone=phone,
                to_email=email,
                template="escalation",
                variables={"task_id": "t-2", "deadline": "x", "breached": "", "caller_phone": ""},
            ),
        )
        await eventually(lambda: mail_server.to(email), timeout=15)
        assert simulator.requests - before == 1, "a permanent refusal is not retried"
        failed = await notifications_of(service, tenant, NotificationFailed)
        assert [(f["channel"], f["permanent"], f["fallback"]) for f in failed] == [
            ("sms", True, "email")
        ]
        assert "21610" in failed[0]["reason"]


class TestConsent:
    async def test_stop_opts_out_with_one_confirmation_and_the_number_gets_nothing_more(
        self,
        service: RunningService,
        provider: tuple[ProviderSimulator, str],
        mail_server: MailServer,
        clock: TestClock,
    ) -> None:
        simulator, _ = provider
        tenant, phone, email = new_tenant(), greek_mobile(), f"{uuid.uuid4().hex[:8]}@example.com"
        assert await stop_reply(service, tenant, phone, "Stop", simulator.auth_token) == 200
        assert await stop_reply(service, tenant, phone, "QUIT", simulator.auth_token) == 200
        await eventually(lambda: simulator.to(phone), timeout=10)
        changes = await notifications_of(service, tenant, ConsentChanged)
        assert [(c["phone"], c["scope"], c["granted"], c["keyword"]) for c in changes] == [
            (phone, "all", False, "STOP")
        ]

        await publish(
            service, confirmed(tenant, local_time(clock, 3, 12), email=email, phone=phone)
        )
        await publish(service, text_back(tenant, phone))
        await eventually(lambda: mail_server.to(email), timeout=10)
        await settle(1.0)
        [confirmation] = simulator.to(phone)
        assert "unsubscribed" in confirmation["Body"] or "εγγραφή" in confirmation["Body"]
        failed = await notifications_of(service, tenant, NotificationFailed)
        assert {(f["channel"], f["reason"]) for f in failed} == {("sms", "recipient opted out")}

    async def test_start_opts_back_in_and_help_is_answered(
        self, service: RunningService, provider: tuple[ProviderSimulator, str]
    ) -> None:
        simulator, _ = provider
        tenant, phone = new_tenant(), greek_mobile()
        for word in ("STOP", "START", "HELP"):
            assert await stop_reply(service, tenant, phone, word, simulator.auth_token) == 200
            await eventually(
                lambda w=word: len(simulator.to(phone)) == ("STOP", "START", "HELP").index(w) + 1
            )
        await publish(service, text_back(tenant, phone))
        await eventually(lambda: len(simulator.to(phone)) == 4)
        changes = await notifications_of(service, tenant, ConsentChanged)
        assert [(c["scope"], c["granted"]) for c in changes] == [
            ("all", False),
            ("transactional", True),
        ]

    async def test_an_unsigned_or_forged_webhook_is_refused(
        self, service: RunningService, provider: tuple[ProviderSimulator, str]
    ) -> None:
        tenant, phone = new_tenant(), greek_mobile()
        assert await stop_reply(service, tenant, phone, "STOP", "not-the-token") == 403
        response = await service.client.post(
            f"/providers/twilio/{tenant}/sms", data={"From": phone, "Body": "STOP"}
        )
        assert response.status_code == 403

    async def test_stop_on_whatsapp_opts_out_too(
        self, service: RunningService, provider: tuple[ProviderSimulator, str], clock: TestClock
    ) -> None:
        simulator, _ = provider
        tenant, phone = new_tenant(), greek_mobile()
        await publish(
            service,
            calls.WhatsAppMessageReceived(
                tenant_id=tenant,
                aggregate_id=f"wa-{uuid.uuid4().hex[:6]}",
                message_id=f"wamid.{uuid.uuid4().hex}",
                from_phone=phone,
                to_phone=CLINIC_LINE,
                text="STOP",
                occurred_at=clock.now,
            ),
        )
        await eventually(lambda: simulator.to(phone), timeout=10)
        [reply] = simulator.to(phone)
        assert reply["To"] == f"whatsapp:{phone}"
        assert "Body" in reply, "inside the customer window: free text, no template"
        changes = await notifications_of(service, tenant, ConsentChanged)
        assert [(c["phone"], c["granted"]) for c in changes] == [(phone, False)]
        settings = service.runtime.settings
        assert isinstance(settings, NotifierSettings)
        tables = await anyio.to_thread.run_sync(
            stored_tables, settings.database_url, settings.schema_name
        )
        assert tenant.encode() in tables["whatsapp_windows"], "the window is kept ..."
        assert phone[1:].encode() not in tables["whatsapp_windows"], "... not under the number"


class TestWhatsAppWindowAndDeliveryReports:
    async def test_outside_the_window_whatsapp_uses_the_approved_template(
        self, service: RunningService, provider: tuple[ProviderSimulator, str]
    ) -> None:
        simulator, _ = provider
        _, phone = await text_back_sent(service, simulator, MessageChannel.WHATSAPP)
        [text] = simulator.to(phone)
        assert text["To"] == f"whatsapp:{phone}"
        assert text["ContentSid"] == "HXslotline_text_back"
        assert "Body" not in text

    async def test_delivery_reports_become_events(
        self, service: RunningService, provider: tuple[ProviderSimulator, str]
    ) -> None:
        simulator, _ = provider
        tenant, phone = await text_back_sent(service, simulator)
        await eventually(lambda: notifications_of(service, tenant, NotificationSent))
        assert await simulator.report(simulator.to(phone)[0]["sid"], "delivered") == 204
        assert await simulator.report(simulator.to(phone)[0]["sid"], "delivered") == 204

        async def delivered() -> list[dict[str, object]]:
            return await notifications_of(service, tenant, NotificationDelivered)

        await eventually(delivered, timeout=10)
        assert [d["channel"] for d in await delivered()] == ["sms"]


class TestQuietHoursReceiptsAndFeeds:
    async def test_a_non_urgent_text_at_night_waits_for_eight_in_the_morning(
        self, service: RunningService, provider: tuple[ProviderSimulator, str], clock: TestClock
    ) -> None:
        simulator, _ = provider
        tenant, phone = new_tenant(), greek_mobile()
        clock.move_to(local_time(clock, 1, 23))  # 23:00 in Athens
        await publish(service, request(tenant, to_phone=phone))
        await settle(1.5)
        assert simulator.to(phone) == [], "quiet hours"
        clock.move_to(local_time(clock, 1, 8) - timedelta(minutes=1))
        await settle(1.0)
        assert simulator.to(phone) == []
        clock.move_to(local_time(clock, 0, 8) + timedelta(seconds=1))
        await eventually(lambda: simulator.to(phone), timeout=10)

    async def test_a_receipt_is_mailed_with_its_link(
        self, service: RunningService, mail_server: MailServer
    ) -> None:
        tenant, email = new_tenant(), f"{uuid.uuid4().hex[:8]}@example.com"
        await publish(
            service,
            payments.ReceiptIssued(
                tenant_id=tenant,
                aggregate_id="b-r",
                booking_id="b-r",
                payment_id="p-1",
                receipt_id="r-1",
                amount=Money(amount_minor=2500, currency="EUR"),
                url="https://pay.example/r-1",
                recipient_email=email,
            ),
        )
        await eventually(lambda: mail_server.to(email), timeout=10)
        body = mail_server.to(email)[0].get_body(preferencelist=("plain",))
        assert body is not None
        assert "25.00 EUR" in body.get_content()
        assert "https://pay.example/r-1" in body.get_content()


class TestCalendarFeeds:
    """Every resource a booking names (staff, room, equipment) has a feed behind a secret
    URL with an expiry; a manager rotates it; every refusal is the same plain 404."""

    async def _booked(
        self, service: RunningService, mail_server: MailServer, clock: TestClock
    ) -> tuple[str, str, str]:
        tenant, email = new_tenant(), f"{uuid.uuid4().hex[:8]}@example.com"
        staff, room = f"staff-{uuid.uuid4().hex[:6]}", f"room-{uuid.uuid4().hex[:6]}"
        booking = confirmed(
            tenant, local_time(clock, 5, 10), email=email, resource_ids=[staff, room]
        )
        await publish(service, booking)
        await eventually(lambda: mail_server.to(email), timeout=10)
        return tenant, staff, room

    async def _feed(self, service: RunningService, url: str) -> tuple[int, bytes]:
        answer = await service.client.get(url.removeprefix(service.base_url))
        return answer.status_code, answer.content

    async def test_a_room_feed_lists_its_bookings_and_staff_urls_still_serve(
        self, service: RunningService, mail_server: MailServer, clock: TestClock
    ) -> None:
        tenant, staff, room = await self._booked(service, mail_server, clock)
        answer = await service.client.get(
            f"/feeds/resources/{room}", headers=bearer("staff", tenant)
        )
        assert answer.status_code == 200
        url = answer.json()["url"]
        assert f"/feeds/{tenant}/resources/{room}.ics?token=" in url
        status, body = await self._feed(service, url)
        assert status == 200
        events = Calendar.from_ical(body).walk("VEVENT")
        assert [str(e["SUMMARY"]) for e in events] == ["Massage 60"]
        other_room = await service.client.get(
            f"/feeds/resources/room-empty-{uuid.uuid4().hex[:6]}", headers=bearer("staff", tenant)
        )
        status, body = await self._feed(service, other_room.json()["url"])
        assert (status, Calendar.from_ical(body).walk("VEVENT")) == (200, [])
        # the staff routes of before: the URL route, and the feed under /staff/
        staff_url = (
            await service.client.get(f"/feeds/staff/{staff}", headers=bearer("staff", tenant))
        ).json()["url"]
        token = staff_url.split("?token=")[1]
        legacy = f"/feeds/{tenant}/staff/{staff}.ics?token={token}"
        for path in (staff_url, legacy):
            status, body = await self._feed(service, path)
            assert status == 200
            assert len(Calendar.from_ical(body).walk("VEVENT")) == 1

    async def test_rotating_a_feed_retires_its_old_url_at_once_and_returns_a_working_one(
        self, service: RunningService, mail_server: MailServer, clock: TestClock
    ) -> None:
        tenant, _, room = await self._booked(service, mail_server, clock)
        old = (
            await service.client.get(f"/feeds/resources/{room}", headers=bearer("staff", tenant))
        ).json()["url"]
        refused = await service.client.post(
            f"/feeds/resources/{room}/rotate", headers=bearer("staff", tenant)
        )
        assert refused.status_code == 403
        assert (await self._feed(service, old))[0] == 200
        rotated = await service.client.post(
            f"/feeds/resources/{room}/rotate", headers=bearer("manager", tenant)
        )
        assert rotated.status_code == 200
        new = rotated.json()["url"]
        old_answer = await service.client.get(old.removeprefix(service.base_url))
        assert (old_answer.status_code, old_answer.json()["detail"]) == (404, "no such feed")
        status, body = await self._feed(service, new)
        assert (status, len(Calendar.from_ical(body).walk("VEVENT"))) == (200, 1)
        # the URL staff are given now is of the new version too
        again = (
            await service.client.get(f"/feeds/resources/{room}", headers=bearer("staff", tenant))
        ).json()["url"]
        assert (await self._feed(service, again))[0] == 200

    async def test_an_expired_forged_or_misplaced_token_is_the_same_plain_404(
        self, service: RunningService, mail_server: MailServer, clock: TestClock
    ) -> None:
        tenant, staff, room = await self._booked(service, mail_server, clock)
        secret = notifier_settings(service).feed_secret.get_secret_value()
        tokens = FeedTokens(secret, timedelta(days=365))
        expired = tokens.token(tenant, room, 0, clock.now - timedelta(days=366))
        forged = FeedTokens("a-guessed-secret-of-thirty-two-bytes").token(
            tenant, room, 0, clock.now
        )
        valid = tokens.token(tenant, room, 0, clock.now)
        refusals = [
            f"/feeds/{tenant}/resources/{room}.ics?token={expired}",
            f"/feeds/{tenant}/resources/{room}.ics?token={forged}",
            f"/feeds/{tenant}/resources/{room}.ics?token=guess",
            f"/feeds/{tenant}/staff/{staff}.ics?token={valid}",  # another resource's token
            f"/feeds/{new_tenant()}/resources/{room}.ics?token={valid}",  # unknown tenant
        ]
        answers = [await service.client.get(path) for path in refusals]
        assert {a.status_code for a in answers} == {404}
        assert {a.json()["detail"] for a in answers} == {"no such feed"}
        assert (
            await service.client.get(f"/feeds/{tenant}/resources/{room}.ics?token={valid}")
        ).status_code == 200

    async def test_feed_fetches_from_one_address_beyond_the_limit_are_refused(
        self, service: RunningService
    ) -> None:
        tenant = new_tenant()  # counted per address and tenant: the other tests' are apart
        limit = int(notifier_settings(service).feed_rate_limit.split("/")[0])
        path = f"/feeds/{tenant}/resources/room-1.ics?token=guess"
        answers = [await service.client.get(path) for _ in range(limit + 3)]
        assert {a.status_code for a in answers[:limit]} == {404}
        # (+3: a minute's boundary crossed mid-test lets the sliding window admit one more)
        assert answers[-1].status_code == 429
        assert int(answers[-1].headers["Retry-After"]) >= 1


class TestBadInput:
    async def test_a_malformed_event_is_dead_lettered_and_the_consumer_goes_on(
        self, service: RunningService, mail_server: MailServer, clock: TestClock
    ) -> None:
        tenant, email = new_tenant(), f"{uuid.uuid4().hex[:8]}@example.com"
        broker = service.runtime.broker
        assert broker is not None
        bad = confirmed(tenant, local_time(clock, 3, 12)).model_dump(mode="json")
        bad["time_zone"] = 42
        del bad["contact"]
        import json

        await broker.publish(json.dumps(bad).encode(), topic=BOOKING_EVENTS, key=b"b-bad")
        await publish(service, confirmed(tenant, local_time(clock, 3, 12), email=email))
        await eventually(lambda: mail_server.to(email), timeout=10)
        letters = await dead_letters_of(service, BOOKING_EVENTS, tenant)
        assert len(letters) == 1
        assert "contact" in letters[0]["reason"]

    async def test_an_unknown_template_variable_is_dead_lettered_with_its_name(
        self, service: RunningService, provider: tuple[ProviderSimulator, str]
    ) -> None:
        simulator, _ = provider
        tenant, phone = new_tenant(), greek_mobile()
        await publish(service, request(tenant, to_phone=phone, variables={"business_name": "A"}))

        async def letters() -> list[dict[str, object]]:
            return await dead_letters_of(service, NOTIFICATIONS_EVENTS, tenant)

        await eventually(letters, timeout=10)
        [letter] = await letters()
        assert "'after_hours' is undefined" in str(letter["reason"])
        assert simulator.to(phone) == []

    async def test_an_invalid_number_is_a_failed_notification_not_a_crash(
        self, service: RunningService, mail_server: MailServer
    ) -> None:
        tenant = new_tenant()
        await publish(service, request(tenant, to_phone="+300000000", urgent=True))

        async def failed() -> list[dict[str, object]]:
            return await notifications_of(service, tenant, NotificationFailed)

        await eventually(failed, timeout=10)
        [failure] = await failed()
        assert failure["permanent"] is True
        assert "invalid phone number" in str(failure["reason"])

    async def test_an_escalation_without_any_address_is_dead_lettered(
        self, service: RunningService
    ) -> None:
        from datetime import UTC, datetime

        tenant = new_tenant()
        await publish(
            service,
            requests.EscalationRequested(
                tenant_id=tenant,
                aggregate_id="task-1",
                task_id="task-1",
                to_staff_id="eleni",
                breached=True,
                deadline=datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
            ),
        )

        async def letters() -> list[dict[str, object]]:
            return await dead_letters_of(service, NOTIFICATIONS_EVENTS, tenant)

        await eventually(letters, timeout=10)
        assert "eleni" in str((await letters())[0]["reason"])


class TestTenantPreferences:
    async def test_a_manager_sets_the_reminders_and_bad_values_name_their_field(
        self, service: RunningService, mail_server: MailServer, clock: TestClock
    ) -> None:
        tenant, email = new_tenant(), f"{uuid.uuid4().hex[:8]}@example.com"
        manager = bearer("manager", tenant)
        refused = await service.client.put(
            "/preferences", json={"reminders": ["1w"]}, headers=manager
        )
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "reminders[0]"
        forbidden = await service.client.put(
            "/preferences", json={"reminders": ["2h"]}, headers=bearer("staff", tenant)
        )
        assert forbidden.status_code == 403
        changed = await service.client.put(
            "/preferences",
            json={"reminders": ["48h", "2h"], "quiet_hours_start": "20:00"},
            headers=manager,
        )
        assert changed.status_code == 200
        assert changed.json()["reminders"] == ["48h", "2h"]
        assert changed.json()["quiet_hours_start"] == "20:00"

        await publish(service, confirmed(tenant, local_time(clock, 4, 12), email=email))

        async def scheduled() -> list[dict[str, object]]:
            return await notifications_of(service, tenant, ReminderScheduled)

        await eventually(scheduled, timeout=10)
        assert sorted(str(m["kind"]) for m in await scheduled()) == ["2h", "48h"]
