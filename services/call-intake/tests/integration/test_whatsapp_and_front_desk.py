"""WhatsApp inbound (signed Cloud API webhooks) and the front desk's queue over HTTP and SSE."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from slotline.call_intake.domain.intent import BookingIntent
from slotline.call_intake.domain.message import InboundMessage
from slotline.call_intake.http import whatsapp as whatsapp_http
from slotline.call_intake.testing import Intake, plan
from slotline.events.contract.booking_requests import BookingRequested
from slotline.events.contract.callbacks import CallbackAttemptRecorded, CallbackTaskCreated
from slotline.events.contract.calls import LeadCaptured, WhatsAppMessageReceived
from slotline.events.testing.reading import eventually
from slotline.events.testing.service import bearer
from slotline.events.topics import BOOKING_REQUESTS, CALLS_EVENTS

pytestmark = pytest.mark.integration

APP_SECRET = "local-whatsapp-app-secret"
CUSTOMER = "306912340000"
SENT_AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # the tests' clock: OPEN_HOURS


def wamid() -> str:
    return f"wamid.{uuid.uuid4().hex}"


def notification(
    message_id: str,
    text: str,
    *,
    to: str,
    sender: str = CUSTOMER,
    sent_at: datetime = SENT_AT,
) -> dict[str, Any]:
    """The Cloud API's webhook shape for one text message (plus a status update), sent to
    the number Meta knows as ``to`` (its ``phone_number_id``)."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA-1",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "302100000001",
                                "phone_number_id": to,
                            },
                            "contacts": [{"profile": {"name": "Ana"}, "wa_id": sender}],
                            "messages": [
                                {
                                    "from": sender,
                                    "id": message_id,
                                    "timestamp": str(int(sent_at.timestamp())),
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                            "statuses": [{"id": "wamid.out-1", "status": "read"}],
                        },
                    }
                ],
            }
        ],
    }


def signed(raw: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    signature = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": signature, "Content-Type": "application/json"}


async def post_whatsapp(
    intake: Intake, tenant: str, body: dict[str, Any], secret: str = APP_SECRET
) -> httpx.Response:
    raw = json.dumps(body).encode()
    return await intake.service.client.post(
        f"/v1/whatsapp/{tenant}/webhook", content=raw, headers=signed(raw, secret)
    )


def recorded(intake: Intake, tenant: str, message_id: str) -> bool:
    """Whether the store holds this tenant's message (the webhook took it)."""
    message_key = InboundMessage.create_id(tenant, message_id)
    return message_key in intake.app.get_many([message_key])


async def refused_count(intake: Intake, reason: str) -> float:
    """``slotline_whatsapp_refused_total{reason=...}`` on the service's /metrics."""
    text = (await intake.service.client.get("/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            named = sample.name == "slotline_whatsapp_refused_total"
            if named and sample.labels.get("reason") == reason:
                return float(sample.value)
    return 0.0


class TestWhatsAppInbound:
    async def test_the_subscription_check_echoes_the_challenge_only_with_the_token(
        self, intake: Intake
    ) -> None:
        url = "/v1/whatsapp/t1/webhook"
        params = {"hub.mode": "subscribe", "hub.challenge": "1158201444"}
        ok = await intake.service.client.get(
            url, params=params | {"hub.verify_token": "local-whatsapp-verify-token"}
        )
        assert (ok.status_code, ok.text) == (200, "1158201444")
        wrong = await intake.service.client.get(url, params=params | {"hub.verify_token": "x"})
        assert wrong.status_code == 403

    async def test_a_message_becomes_a_lead_and_a_task_once(self, intake: Intake) -> None:
        phone = await intake.new_tenant()
        message_id = wamid()
        body = notification(
            message_id, "Do you have anything on Friday?", to=phone.whatsapp_number_id
        )
        forged = await post_whatsapp(intake, phone.tenant_id, body, secret="not-the-secret")
        assert forged.status_code == 403
        first = await post_whatsapp(intake, phone.tenant_id, body)
        again = await post_whatsapp(intake, phone.tenant_id, body)
        assert first.json() == {"booking": 0, "lead": 1, "duplicate": 0, "stale": 0}
        assert again.json() == {"booking": 0, "lead": 0, "duplicate": 1, "stale": 0}
        received = await intake.published(CALLS_EVENTS, phone.tenant_id, WhatsAppMessageReceived)
        assert [(r["message_id"], r["from_phone"], r["text"]) for r in received] == [
            (message_id, f"+{CUSTOMER}", "Do you have anything on Friday?")
        ]
        leads = await intake.published(CALLS_EVENTS, phone.tenant_id, LeadCaptured)
        tasks = await intake.published(CALLS_EVENTS, phone.tenant_id, CallbackTaskCreated)
        assert [lead["channel"] for lead in leads] == ["whatsapp"]
        assert [(t["source"], t["lead_id"]) for t in tasks] == [("whatsapp", leads[0]["lead_id"])]

    async def test_a_message_with_a_booking_intent_becomes_a_booking_request(
        self, intake: Intake
    ) -> None:
        phone = await intake.new_tenant()
        slot = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
        intent = BookingIntent("svc-cleaning", "loc-kifisia", slot, call_id="call-1")
        response = await post_whatsapp(
            intake,
            phone.tenant_id,
            notification(
                wamid(), f"Hi, I'd like to book {intent.marker()}", to=phone.whatsapp_number_id
            ),
        )
        assert response.json()["booking"] == 1
        requests = await intake.published(BOOKING_REQUESTS, phone.tenant_id, BookingRequested)
        assert len(requests) == 1
        request = requests[0]
        assert (request["service_id"], request["location_id"], request["channel"]) == (
            "svc-cleaning",
            "loc-kifisia",
            "whatsapp",
        )
        assert datetime.fromisoformat(request["slot_start"]) == slot
        assert request["contact"]["phone"] == f"+{CUSTOMER}"
        assert request["contact"]["name"] == "Ana"
        assert request["source_call_id"] == "call-1"
        assert request["aggregate_id"] == request["request_id"]

    async def test_a_payload_of_the_wrong_shape_gets_a_422(self, intake: Intake) -> None:
        response = await post_whatsapp(intake, "t1", {"entry": [{"changes": [{"value": 3}]}]})
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"].startswith("entry[0].changes[0].value")


class TestTheSubscriptionCheck:
    """Meta's GET handshake: the verify token is a secret, compared in constant time, and
    a failure says nothing about which part was wrong."""

    URL = "/v1/whatsapp/t1/webhook"
    PARAMS = {"hub.mode": "subscribe", "hub.challenge": "1158201444"}

    async def test_every_failure_gets_the_same_generic_answer(self, intake: Intake) -> None:
        client = intake.service.client
        answers = [
            await client.get(self.URL, params=self.PARAMS | {"hub.verify_token": "x"}),
            await client.get(
                self.URL, params=self.PARAMS | {"hub.verify_token": "local-whatsapp-verify-tokeN"}
            ),
            await client.get(
                self.URL,
                params=self.PARAMS
                | {"hub.mode": "unsubscribe", "hub.verify_token": "local-whatsapp-verify-token"},
            ),
            await client.get(self.URL, params=self.PARAMS | {"hub.verify_token": "ünïcode"}),
        ]
        assert {(a.status_code, a.json()["detail"]) for a in answers} == {
            (403, "verification failed")
        }
        assert all("verify_token" not in a.text for a in answers)

    async def test_the_token_is_compared_in_constant_time(
        self, intake: Intake, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        compared: list[tuple[bytes, bytes]] = []
        real = hmac.compare_digest

        def spy(a: bytes, b: bytes) -> bool:
            compared.append((a, b))
            return real(a, b)

        monkeypatch.setattr(f"{whatsapp_http.__name__}.hmac.compare_digest", spy)
        params = self.PARAMS | {"hub.verify_token": "local-whatsapp-verify-token"}
        ok = await intake.service.client.get(self.URL, params=params)
        assert (ok.status_code, ok.text) == (200, "1158201444")
        assert (b"local-whatsapp-verify-token", b"local-whatsapp-verify-token") in compared


class TestRoutingByTheSignedNumber:
    """One app secret signs every tenant's webhooks, so the URL's tenant proves nothing:
    the ``phone_number_id`` inside the signed body must be one of that tenant's numbers."""

    async def test_a_message_for_another_tenants_number_is_refused_and_records_nothing(
        self, intake: Intake
    ) -> None:
        ours, theirs = await intake.new_tenant(), await intake.new_tenant()
        message_id = wamid()
        body = notification(message_id, "Book me in", to=theirs.whatsapp_number_id)
        injected = await post_whatsapp(intake, ours.tenant_id, body)
        assert injected.status_code == 403
        assert injected.json()["detail"] == (
            f"phone_number_id {theirs.whatsapp_number_id} is not a WhatsApp number of this tenant"
        )
        assert not recorded(intake, ours.tenant_id, message_id)
        delivered = await post_whatsapp(intake, theirs.tenant_id, body)
        assert delivered.json()["lead"] == 1
        assert recorded(intake, theirs.tenant_id, message_id)
        received = await intake.published(CALLS_EVENTS, theirs.tenant_id, WhatsAppMessageReceived)
        assert [r["message_id"] for r in received] == [message_id]
        assert await intake.published(CALLS_EVENTS, ours.tenant_id, WhatsAppMessageReceived) == []

    async def test_a_number_in_another_tenants_plan_is_refused_until_let_go(
        self, intake: Intake
    ) -> None:
        ours, theirs = await intake.new_tenant(), await intake.new_tenant()
        taken = {"whatsapp_numbers": [{"phone_number_id": theirs.whatsapp_number_id}]}
        claimed = await intake.service.client.put(
            "/v1/call-plan", json=plan(**taken), headers=bearer("manager", ours.tenant_id)
        )
        assert claimed.status_code == 409
        assert theirs.whatsapp_number_id in claimed.json()["detail"]
        assert "another tenant's" in claimed.json()["detail"]
        body = notification(wamid(), "Hello", to=theirs.whatsapp_number_id)
        assert (await post_whatsapp(intake, ours.tenant_id, body)).status_code == 403

        let_go = await intake.service.client.put(
            "/v1/call-plan",
            json=plan(whatsapp_numbers=[]),
            headers=bearer("manager", theirs.tenant_id),
        )
        assert let_go.status_code == 200, let_go.text
        moved = await intake.service.client.put(
            "/v1/call-plan", json=plan(**taken), headers=bearer("manager", ours.tenant_id)
        )
        assert moved.status_code == 200, moved.text
        again = await intake.service.client.put(
            "/v1/call-plan", json=plan(**taken), headers=bearer("manager", ours.tenant_id)
        )
        assert again.status_code == 200, "a plan saved again keeps its own numbers"

    async def test_one_foreign_change_refuses_the_whole_payload(self, intake: Intake) -> None:
        ours, theirs = await intake.new_tenant(), await intake.new_tenant()
        mine, foreign = wamid(), wamid()
        body = notification(mine, "Hello", to=ours.whatsapp_number_id)
        other = notification(foreign, "Hello", to=theirs.whatsapp_number_id)
        body["entry"].append(other["entry"][0])
        response = await post_whatsapp(intake, ours.tenant_id, body)
        assert response.status_code == 403
        assert not recorded(intake, ours.tenant_id, mine)
        assert not recorded(intake, ours.tenant_id, foreign)

    async def test_a_message_without_a_phone_number_id_is_refused(self, intake: Intake) -> None:
        phone = await intake.new_tenant()
        message_id = wamid()
        body = notification(message_id, "Hello", to=phone.whatsapp_number_id)
        del body["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"]
        response = await post_whatsapp(intake, phone.tenant_id, body)
        assert response.status_code == 403
        assert not recorded(intake, phone.tenant_id, message_id)

    async def test_a_tenant_without_whatsapp_numbers_takes_no_messages(
        self, intake: Intake
    ) -> None:
        phone = await intake.new_tenant(whatsapp_numbers=[])
        message_id = wamid()
        body = notification(message_id, "Hello", to=phone.whatsapp_number_id)
        response = await post_whatsapp(intake, phone.tenant_id, body)
        assert response.status_code == 403
        assert not recorded(intake, phone.tenant_id, message_id)

    async def test_status_updates_alone_need_no_number(self, intake: Intake) -> None:
        """Statuses report on messages we sent (the notifier's business); nothing is
        recorded from them, so they are accepted whatever number they name."""
        phone = await intake.new_tenant()
        body = notification(wamid(), "Hello", to="someone-else")
        del body["entry"][0]["changes"][0]["value"]["messages"]
        response = await post_whatsapp(intake, phone.tenant_id, body)
        assert response.json() == {"booking": 0, "lead": 0, "duplicate": 0, "stale": 0}


class TestStaleMessages:
    """A message older than ``SLOTLINE_WHATSAPP_MAX_AGE_SECONDS`` (by the service's clock)
    is not taken: answered 200 with ``stale`` counted, logged and on /metrics."""

    async def test_a_message_older_than_the_limit_is_counted_stale_and_records_nothing(
        self, intake: Intake
    ) -> None:
        phone = await intake.new_tenant()
        limit = intake.settings.whatsapp_max_age_seconds
        before = await refused_count(intake, "stale")
        message_id = wamid()
        old = intake.clock.now - timedelta(seconds=limit + 1)
        body = notification(message_id, "Hello", to=phone.whatsapp_number_id, sent_at=old)
        response = await post_whatsapp(intake, phone.tenant_id, body)
        assert (response.status_code, response.json()) == (
            200,
            {"booking": 0, "lead": 0, "duplicate": 0, "stale": 1},
        )
        assert not recorded(intake, phone.tenant_id, message_id)
        assert await refused_count(intake, "stale") == before + 1

    async def test_a_message_just_inside_the_limit_is_taken(self, intake: Intake) -> None:
        phone = await intake.new_tenant()
        limit = intake.settings.whatsapp_max_age_seconds
        message_id = wamid()
        recent = intake.clock.now - timedelta(seconds=limit)
        body = notification(message_id, "Hello", to=phone.whatsapp_number_id, sent_at=recent)
        response = await post_whatsapp(intake, phone.tenant_id, body)
        assert response.json()["lead"] == 1
        assert recorded(intake, phone.tenant_id, message_id)


class TestTheSignatureComesFirst:
    """The body is authenticated before it is parsed, and capped before it is read."""

    async def test_an_unsigned_body_that_is_not_json_is_a_403_not_a_parse_error(
        self, intake: Intake
    ) -> None:
        response = await intake.service.client.post(
            "/v1/whatsapp/t1/webhook",
            content=b"{not json",
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=00"},
        )
        assert response.status_code == 403

    async def test_a_body_over_the_webhook_limit_is_a_413_before_the_signature(
        self, intake: Intake
    ) -> None:
        limit = intake.service.runtime.settings.http_max_webhook_body_kb * 1024
        raw = b" " * (limit + 1)
        response = await intake.service.client.post(
            "/v1/whatsapp/t1/webhook", content=raw, headers=signed(raw)
        )
        assert response.status_code == 413


class TestFrontDeskQueue:
    async def test_tasks_come_most_urgent_first_and_live_over_sse(self, intake: Intake) -> None:
        phone = await intake.new_tenant()
        desk = bearer("front_desk", phone.tenant_id, subject="maria")
        api = intake.service.client
        await phone.missed_call(f"CA{uuid.uuid4().hex}", "+306911111111")
        async with api.stream("GET", "/v1/callbacks/stream", headers=desk) as stream:
            assert stream.status_code == 200
            lines = stream.aiter_lines()
            events = _sse(lines)
            kind, snapshot = await anext(events)
            assert kind == "queue"
            intake.clock.advance(timedelta(minutes=1))
            try:
                await phone.missed_call(f"CA{uuid.uuid4().hex}", "+306922222222")
            finally:
                intake.clock.advance(timedelta(minutes=-1))
            seen: list[dict[str, Any]] = []
            while not any(t["customer_phone"] == "+306922222222" for t in seen):
                kind, task = await anext(events)
                if kind == "task":
                    seen.append(task)
        queue = (await api.get("/v1/callbacks", headers=desk)).json()
        assert [t["customer_phone"] for t in queue] == ["+306911111111", "+306922222222"]
        assert queue[0]["deadline"] < queue[1]["deadline"]
        assert len(snapshot) in (0, 1)

    async def test_claim_attempt_and_close(self, intake: Intake) -> None:
        phone = await intake.new_tenant()
        api = intake.service.client
        maria = bearer("front_desk", phone.tenant_id, subject="maria")
        nikos = bearer("front_desk", phone.tenant_id, subject="nikos")
        await phone.missed_call(f"CA{uuid.uuid4().hex}", "+306933333333")

        async def queued() -> list[dict[str, Any]]:
            rows: list[dict[str, Any]] = (await api.get("/v1/callbacks", headers=maria)).json()
            return rows

        await eventually(queued)
        task_id = (await queued())[0]["task_id"]
        claimed = await api.post(f"/v1/callbacks/{task_id}/claim", headers=maria)
        assert claimed.json()["claimed_by"] == "maria"
        taken = await api.post(f"/v1/callbacks/{task_id}/claim", headers=nikos)
        assert taken.status_code == 409
        tried = await api.post(
            f"/v1/callbacks/{task_id}/attempts", json={"result": "no_answer"}, headers=maria
        )
        assert tried.json()["next_attempt_at"] is not None
        bad = await api.post(
            f"/v1/callbacks/{task_id}/attempts", json={"result": "maybe"}, headers=maria
        )
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "result"
        reached = await api.post(
            f"/v1/callbacks/{task_id}/attempts", json={"result": "reached"}, headers=maria
        )
        assert reached.json()["outcome"] == "reached"
        again = await api.post(
            f"/v1/callbacks/{task_id}/close", json={"outcome": "gave_up"}, headers=maria
        )
        assert again.status_code == 409
        other_tenant = bearer("front_desk", "someone-else")
        assert (
            await api.post(f"/v1/callbacks/{task_id}/claim", headers=other_tenant)
        ).status_code == 404
        attempts = await intake.published(
            CALLS_EVENTS, phone.tenant_id, CallbackAttemptRecorded, expected=2
        )
        assert [a["result"] for a in attempts] == ["no_answer", "reached"]

    async def test_a_staff_token_cannot_read_the_queue(self, intake: Intake) -> None:
        response = await intake.service.client.get("/v1/callbacks", headers=bearer("staff", "t1"))
        assert response.status_code == 403


async def _sse(lines: AsyncIterator[str]) -> AsyncIterator[tuple[str, Any]]:
    event, data = "message", ""
    async for line in lines:
        if line.startswith("event:"):
            event = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data += line.removeprefix("data:").strip()
        elif not line and data:
            yield event, json.loads(data)
            event, data = "message", ""
