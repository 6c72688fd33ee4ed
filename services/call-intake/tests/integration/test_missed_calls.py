"""Missed calls over real HTTP, PostgreSQL and Kafka: signed webhooks in, text-back
requests, callback tasks, opt-outs, bookings and SLA escalations out."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from slotline.call_intake.caller_ids import caller_id
from slotline.call_intake.domain.call import Call
from slotline.call_intake.live.line_kinds import CallerLineKind
from slotline.call_intake.testing import Intake
from slotline.events.contract.booking import BookingConfirmed
from slotline.events.contract.callbacks import (
    CallbackTaskClosed,
    CallbackTaskCreated,
    CallbackTaskEscalated,
)
from slotline.events.contract.calls import CallAnswered, CallMissed, TextBackWithheld
from slotline.events.contract.common import Consents, Contact, TimeSlot
from slotline.events.contract.notifications import (
    ConsentChanged,
    ConsentScope,
    EscalationRequested,
    TextBackRequested,
)
from slotline.events.rate_limits import PostgresStorage, RateLimit
from slotline.events.testing.reading import eventually
from slotline.events.testing.service import bearer
from slotline.events.topics import BOOKING_EVENTS, CALLS_EVENTS, NOTIFICATIONS_EVENTS

pytestmark = pytest.mark.integration

CALLER = "+306912345678"  # a Greek mobile


def sid() -> str:
    return f"CA{uuid.uuid4().hex}"


async def open_tasks(intake: Intake, tenant_id: str) -> list[dict[str, Any]]:
    response = await intake.service.client.get(
        "/v1/callbacks", headers=bearer("front_desk", tenant_id)
    )
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


class TestWebhookSignatures:
    async def test_unsigned_and_badly_signed_webhooks_are_refused_and_change_nothing(
        self, intake: Intake
    ) -> None:
        phone = await intake.new_tenant()
        call_sid = sid()
        params = {"CallSid": call_sid, "From": CALLER, "To": "+302100000001"}
        unsigned = await intake.service.client.post(
            f"/v1/telephony/{phone.tenant_id}/voice", data=params
        )
        forged = await phone.post("/voice", params, signature="bm90IHRoZSBzaWduYXR1cmU=")
        assert (unsigned.status_code, forged.status_code) == (403, 403)
        assert Call.create_id(phone.tenant_id, call_sid) not in intake.app.repository
        signed = await phone.post("/voice", params)
        assert signed.status_code == 200  # the same request, correctly signed
        assert Call.create_id(phone.tenant_id, call_sid) in intake.app.repository

    async def test_a_signature_over_different_parameters_is_refused(self, intake: Intake) -> None:
        phone = await intake.new_tenant()
        call_sid = sid()
        sent = {"CallSid": call_sid, "From": CALLER, "To": "+302100000001"}
        from slotline.events.twilio_signature import twilio_signature

        url = f"{intake.service.base_url}/v1/telephony/{phone.tenant_id}/voice"
        tampered = twilio_signature(phone.token, url, (sent | {"From": "+306900000000"}).items())
        response = await phone.post("/voice", sent, signature=tampered)
        assert response.status_code == 403
        assert Call.create_id(phone.tenant_id, call_sid) not in intake.app.repository

    async def test_a_webhook_missing_a_field_gets_a_422_naming_it(self, intake: Intake) -> None:
        phone = await intake.new_tenant()
        response = await phone.post("/voice", {"CallSid": sid(), "From": CALLER})
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["To"]

    async def test_a_flood_of_webhooks_from_one_address_is_refused_before_its_signature(
        self, intake: Intake
    ) -> None:
        phone = await intake.new_tenant()
        app, settings = intake.app, intake.service.runtime.settings
        storage = PostgresStorage(lambda: app.sql_recorder.transaction(commit=True), app.schema)
        elsewhere = RateLimit(storage, settings.webhook_rate_limit, "webhooks")
        assert elsewhere.hit("127.0.0.1", phone.tenant_id, cost=elsewhere.item.amount) is None
        call_sid = sid()
        flooded = await phone.post("/voice", {"CallSid": call_sid, "From": CALLER, "To": "x"})
        assert flooded.status_code == 429
        assert int(flooded.headers["Retry-After"]) >= 1
        assert Call.create_id(phone.tenant_id, call_sid) not in intake.app.repository


class TestAnsweredCall:
    async def test_an_answered_call_creates_no_task(self, intake: Intake) -> None:
        phone = await intake.new_tenant()
        call_sid = sid()
        ring = await phone.incoming(call_sid, CALLER)
        assert ring.headers["content-type"].startswith("application/xml")
        assert b"+302100000011" in ring.content
        assert b"+302100000012" in ring.content
        hangup = await phone.dial_ended(call_sid, "completed")
        assert hangup.status_code == 200
        assert b"<Hangup" in hangup.content
        answered = await intake.published(CALLS_EVENTS, phone.tenant_id, CallAnswered)
        assert [a["call_id"] for a in answered] == [str(Call.create_id(phone.tenant_id, call_sid))]
        created = await intake.published(
            CALLS_EVENTS, phone.tenant_id, CallbackTaskCreated, expected=0
        )
        assert created == []
        assert await open_tasks(intake, phone.tenant_id) == []


class TestMissedCall:
    async def test_no_answer_gives_one_text_back_and_one_task_due_in_15_minutes(
        self, intake: Intake
    ) -> None:
        phone = await intake.new_tenant()
        call_sid = sid()
        missed_at = intake.clock()
        await phone.incoming(call_sid, CALLER)
        voicemail = await phone.dial_ended(call_sid, "no-answer")
        assert b"<Record" in voicemail.content
        call_id = str(Call.create_id(phone.tenant_id, call_sid))

        texts = await intake.published(NOTIFICATIONS_EVENTS, phone.tenant_id, TextBackRequested)
        assert len(texts) == 1
        text = texts[0]
        assert (text["call_id"], text["to_phone"], text["from_phone"]) == (
            call_id,
            CALLER,
            "+302100000001",
        )
        assert text["business_name"] == "Kifisia Dental"
        assert "phone=%2B306912345678" in text["booking_url"]
        assert text["after_hours"] is False

        missed = await intake.published(CALLS_EVENTS, phone.tenant_id, CallMissed)
        assert [(m["call_id"], m["reason"]) for m in missed] == [(call_id, "no_answer")]
        tasks = await intake.published(CALLS_EVENTS, phone.tenant_id, CallbackTaskCreated)
        assert len(tasks) == 1
        assert tasks[0]["call_id"] == call_id
        assert tasks[0]["customer_phone"] == CALLER
        assert datetime.fromisoformat(tasks[0]["deadline"]) == missed_at + timedelta(minutes=15)

        async def queued() -> list[dict[str, Any]]:
            return await open_tasks(intake, phone.tenant_id)

        await eventually(queued)
        assert [t["task_id"] for t in await queued()] == [tasks[0]["task_id"]]

    async def test_a_second_miss_in_the_window_sends_no_second_text(self, intake: Intake) -> None:
        phone = await intake.new_tenant()
        first, second = sid(), sid()
        await phone.missed_call(first, CALLER)
        intake.clock.advance(timedelta(minutes=5))
        try:
            await phone.missed_call(second, CALLER)
        finally:
            intake.clock.advance(timedelta(minutes=-5))
        withheld = await intake.published(CALLS_EVENTS, phone.tenant_id, TextBackWithheld)
        assert [(w["call_id"], w["reason"]) for w in withheld] == [
            (str(Call.create_id(phone.tenant_id, second)), "already_texted_in_window")
        ]
        texts = await intake.published(NOTIFICATIONS_EVENTS, phone.tenant_id, TextBackRequested)
        assert [t["call_id"] for t in texts] == [str(Call.create_id(phone.tenant_id, first))]
        tasks = await intake.published(CALLS_EVENTS, phone.tenant_id, CallbackTaskCreated)
        assert len(tasks) == 1  # the open task takes the second call

    async def test_a_retried_webhook_changes_nothing(self, intake: Intake) -> None:
        phone = await intake.new_tenant()
        call_sid = sid()
        first = await phone.incoming(call_sid, CALLER)
        again = await phone.incoming(call_sid, CALLER)
        assert first.content == again.content
        await phone.dial_ended(call_sid, "busy")
        await phone.dial_ended(call_sid, "busy")
        missed = await intake.published(CALLS_EVENTS, phone.tenant_id, CallMissed)
        assert [m["reason"] for m in missed] == ["busy"]
        texts = await intake.published(NOTIFICATIONS_EVENTS, phone.tenant_id, TextBackRequested)
        assert len(texts) == 1


class TestOptedOutCaller:
    async def test_a_caller_who_opted_out_gets_no_text_but_still_a_task(
        self, intake: Intake
    ) -> None:
        phone = await intake.new_tenant()
        stop = ConsentChanged(
            tenant_id=phone.tenant_id,
            aggregate_id=f"consent-{CALLER}",
            phone=CALLER,
            scope=ConsentScope.ALL,
            granted=False,
            keyword="STOP",
        )
        broker = intake.broker
        await broker.publish(stop.to_json(), topic=NOTIFICATIONS_EVENTS, key=b"consent")

        def opted_out() -> bool:
            known = caller_id(phone.tenant_id, CALLER)
            return bool(
                known in intake.app.repository and intake.app.repository.get(known).opted_out
            )

        await eventually(opted_out)
        call_sid = sid()
        await phone.missed_call(call_sid, CALLER)
        withheld = await intake.published(CALLS_EVENTS, phone.tenant_id, TextBackWithheld)
        assert [w["reason"] for w in withheld] == ["opted_out"]
        texts = await intake.published(
            NOTIFICATIONS_EVENTS, phone.tenant_id, TextBackRequested, expected=0
        )
        assert texts == []
        tasks = await intake.published(CALLS_EVENTS, phone.tenant_id, CallbackTaskCreated)
        assert len(tasks) == 1


class TestBookingFromTheCaller:
    async def test_a_booking_from_that_number_closes_the_task_and_credits_the_call(
        self, intake: Intake
    ) -> None:
        phone = await intake.new_tenant()
        call_sid = sid()
        await phone.missed_call(call_sid, CALLER)
        call_id = str(Call.create_id(phone.tenant_id, call_sid))
        tasks = await intake.published(CALLS_EVENTS, phone.tenant_id, CallbackTaskCreated)
        booking_id = f"bk-{uuid.uuid4().hex[:8]}"
        start = intake.clock() + timedelta(days=2)
        confirmed = BookingConfirmed(
            tenant_id=phone.tenant_id,
            aggregate_id=booking_id,
            sequence=3,
            booking_id=booking_id,
            reference="SLT-7K4Q",
            customer_id="cust-1",
            contact=Contact(name="Ana", phone=CALLER),
            consents=Consents(),
            service_id="svc-1",
            service_name="Check-up",
            location_id="loc-1",
            time_zone="Europe/Athens",
            slot=TimeSlot(start=start, end=start + timedelta(minutes=30)),
            resource_ids=["res-1"],
            source_call_id=call_id,
        )
        broker = intake.broker
        for _ in range(2):  # delivered twice: applied once
            await broker.publish(confirmed.to_json(), topic=BOOKING_EVENTS, key=booking_id.encode())
        closed = await intake.published(CALLS_EVENTS, phone.tenant_id, CallbackTaskClosed)
        assert [(c["task_id"], c["outcome"], c["booking_id"]) for c in closed] == [
            (tasks[0]["task_id"], "booked", booking_id)
        ]
        assert intake.app.repository.get(Call.create_id(phone.tenant_id, call_sid)).booking_id == (
            booking_id
        )

        async def queue_empty() -> bool:
            return await open_tasks(intake, phone.tenant_id) == []

        await eventually(queue_empty)
        desk = bearer("front_desk", phone.tenant_id)

        async def timeline_kinds() -> list[str]:
            response = await intake.service.client.get(
                f"/v1/callers/{CALLER}/timeline", headers=desk
            )
            return [entry["kind"] for entry in response.json()]

        await eventually(lambda: _has(timeline_kinds, CallerLineKind.BOOKING))
        kinds = await timeline_kinds()
        for kind in (
            CallerLineKind.CALL,
            CallerLineKind.CALL_MISSED,
            CallerLineKind.TEXT_BACK,
            CallerLineKind.TASK_CREATED,
            CallerLineKind.TASK_CLOSED,
            CallerLineKind.BOOKING,
        ):
            assert kind in kinds
        figures = await intake.service.client.get(
            "/v1/speed-to-lead",
            params={
                "from": (intake.clock() - timedelta(hours=1)).isoformat(),
                "until": (intake.clock() + timedelta(hours=1)).isoformat(),
            },
            headers=bearer("manager", phone.tenant_id),
        )
        assert figures.status_code == 200, figures.text
        body = figures.json()
        assert body["calls"] == 1
        assert body["missed_call_rate"] == 1.0
        assert body["call_to_booking_conversion"] == 1.0


async def _has(probe: Callable[[], Awaitable[list[str]]], kind: str) -> bool:
    return kind in await probe()


class TestSlaEscalation:
    async def test_the_manager_is_told_before_and_at_the_breach(self, intake: Intake) -> None:
        phone = await intake.new_tenant()
        await phone.missed_call(sid(), CALLER)
        tasks = await intake.published(CALLS_EVENTS, phone.tenant_id, CallbackTaskCreated)
        task_id = tasks[0]["task_id"]
        await eventually(lambda: _has_open(intake, phone.tenant_id))
        start = intake.clock()
        try:
            intake.clock.advance(timedelta(minutes=11))  # 4 minutes before the deadline
            warned = await intake.published(
                NOTIFICATIONS_EVENTS, phone.tenant_id, EscalationRequested
            )
            assert [(w["task_id"], w["breached"]) for w in warned] == [(task_id, False)]
            assert warned[0]["to_phone"] == "+306900000009"
            assert warned[0]["caller_phone"] == CALLER
            intake.clock.advance(timedelta(minutes=5))  # past the deadline
            both = await intake.published(
                NOTIFICATIONS_EVENTS, phone.tenant_id, EscalationRequested, expected=2
            )
            assert [(w["task_id"], w["breached"]) for w in both] == [
                (task_id, False),
                (task_id, True),
            ]
            escalated = await intake.published(
                CALLS_EVENTS, phone.tenant_id, CallbackTaskEscalated, expected=2
            )
            assert [e["breached"] for e in escalated] == [False, True]
        finally:
            intake.clock.now = start


async def _has_open(intake: Intake, tenant_id: str) -> bool:
    return bool(await open_tasks(intake, tenant_id))


class TestQuietHours:
    async def test_a_plan_may_hold_text_backs_until_eight_in_the_callers_morning(
        self, intake: Intake
    ) -> None:
        phone = await intake.new_tenant(hold_text_backs_in_quiet_hours=True)
        start = intake.clock()
        intake.clock.now = datetime.fromisoformat("2026-12-01T20:30:00+00:00")  # 22:30 Athens
        try:
            call_sid = sid()
            await phone.missed_call(call_sid, CALLER)
            withheld = await intake.published(CALLS_EVENTS, phone.tenant_id, TextBackWithheld)
            assert [(w["reason"], datetime.fromisoformat(w["held_until"])) for w in withheld] == [
                ("quiet_hours", datetime.fromisoformat("2026-12-02T06:00:00+00:00"))
            ]
            missed = await intake.published(CALLS_EVENTS, phone.tenant_id, CallMissed)
            assert missed[0]["after_hours"] is True
            early = await intake.published(
                NOTIFICATIONS_EVENTS, phone.tenant_id, TextBackRequested, expected=0
            )
            assert early == []
            intake.clock.now = datetime.fromisoformat("2026-12-02T06:00:00+00:00")
            texts = await intake.published(NOTIFICATIONS_EVENTS, phone.tenant_id, TextBackRequested)
            assert [(t["call_id"], t["after_hours"]) for t in texts] == [
                (str(Call.create_id(phone.tenant_id, call_sid)), True)
            ]
        finally:
            intake.clock.now = start


class TestSmsPumpingGuard:
    """Anyone can make the service send a text (call, hang up): text-backs per number and
    per tenant are bounded, counted in the database by every replica together."""

    async def test_a_number_gets_at_most_three_text_backs_an_hour(self, intake: Intake) -> None:
        phone = await intake.new_tenant()
        calls = [sid() for _ in range(4)]
        try:
            for call_sid in calls:  # each past the per-caller window, not past the hour
                await phone.missed_call(call_sid, CALLER)
                intake.clock.advance(timedelta(minutes=30))
        finally:
            intake.clock.advance(timedelta(minutes=-30 * len(calls)))
        texts = await intake.published(
            NOTIFICATIONS_EVENTS, phone.tenant_id, TextBackRequested, expected=3
        )
        assert len(texts) == 3
        withheld = await intake.published(CALLS_EVENTS, phone.tenant_id, TextBackWithheld)
        assert [(w["call_id"], w["reason"]) for w in withheld] == [
            (str(Call.create_id(phone.tenant_id, calls[3])), "sms_limit_per_number")
        ]
        metrics = (await intake.service.client.get("/metrics")).text
        assert 'slotline_text_backs_refused_total{reason="sms_limit_per_number"}' in metrics

    async def test_a_tenant_over_its_hourly_text_backs_texts_nobody_more(
        self, intake: Intake
    ) -> None:
        phone = await intake.new_tenant()
        app = intake.app
        storage = PostgresStorage(lambda: app.sql_recorder.transaction(commit=True), app.schema)
        elsewhere = RateLimit(storage, "200/hour", "text-backs-of")  # the fixture's setting
        assert elsewhere.hit(phone.tenant_id, cost=200) is None  # another replica's texts
        call_sid = sid()
        await phone.missed_call(call_sid, "+306912345000")
        withheld = await intake.published(CALLS_EVENTS, phone.tenant_id, TextBackWithheld)
        assert [w["reason"] for w in withheld] == ["sms_limit_per_tenant"]
        texts = await intake.published(
            NOTIFICATIONS_EVENTS, phone.tenant_id, TextBackRequested, expected=0
        )
        assert texts == []
        tasks = await intake.published(CALLS_EVENTS, phone.tenant_id, CallbackTaskCreated)
        assert len(tasks) == 1  # the front desk still calls back
