"""WhatsApp inbound (signed Cloud API webhooks) and the front desk's queue over HTTP and SSE."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from slotline.call_intake.domain.intent import BookingIntent
from slotline.events.testing.reading import eventually
from slotline.events.testing.service import bearer
from slotline.events.topics import BOOKING_REQUESTS, CALLS_EVENTS

pytestmark = pytest.mark.integration

APP_SECRET = "local-whatsapp-app-secret"
CUSTOMER = "306912340000"


def wamid() -> str:
    return f"wamid.{uuid.uuid4().hex}"


def notification(message_id: str, text: str, sender: str = CUSTOMER) -> dict[str, Any]:
    """The Cloud API's webhook shape for one text message (plus a status update)."""
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
                                "phone_number_id": "PN-1",
                            },
                            "contacts": [{"profile": {"name": "Ana"}, "wa_id": sender}],
                            "messages": [
                                {
                                    "from": sender,
                                    "id": message_id,
                                    "timestamp": "1796112000",
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


async def post_whatsapp(
    intake: Any, tenant: str, body: dict[str, Any], secret: str = APP_SECRET
) -> Any:
    raw = json.dumps(body).encode()
    signature = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return await intake.service.client.post(
        f"/v1/whatsapp/{tenant}/webhook",
        content=raw,
        headers={"X-Hub-Signature-256": signature, "Content-Type": "application/json"},
    )


class TestWhatsAppInbound:
    async def test_the_subscription_check_echoes_the_challenge_only_with_the_token(
        self, intake: Any
    ) -> None:
        url = "/v1/whatsapp/t1/webhook"
        params = {"hub.mode": "subscribe", "hub.challenge": "1158201444"}
        ok = await intake.service.client.get(
            url, params=params | {"hub.verify_token": "local-whatsapp-verify-token"}
        )
        assert (ok.status_code, ok.text) == (200, "1158201444")
        wrong = await intake.service.client.get(url, params=params | {"hub.verify_token": "x"})
        assert wrong.status_code == 403

    async def test_a_message_becomes_a_lead_and_a_task_once(self, intake: Any) -> None:
        phone = await intake.new_tenant()
        message_id = wamid()
        body = notification(message_id, "Do you have anything on Friday?")
        forged = await post_whatsapp(intake, phone.tenant_id, body, secret="not-the-secret")
        assert forged.status_code == 403
        first = await post_whatsapp(intake, phone.tenant_id, body)
        again = await post_whatsapp(intake, phone.tenant_id, body)
        assert first.json() == {"booking": 0, "lead": 1, "duplicate": 0}
        assert again.json() == {"booking": 0, "lead": 0, "duplicate": 1}
        received = await intake.published(CALLS_EVENTS, phone.tenant_id, "WhatsAppMessageReceived")
        assert [(r["message_id"], r["from_phone"], r["text"]) for r in received] == [
            (message_id, f"+{CUSTOMER}", "Do you have anything on Friday?")
        ]
        leads = await intake.published(CALLS_EVENTS, phone.tenant_id, "LeadCaptured")
        tasks = await intake.published(CALLS_EVENTS, phone.tenant_id, "CallbackTaskCreated")
        assert [lead["channel"] for lead in leads] == ["whatsapp"]
        assert [(t["source"], t["lead_id"]) for t in tasks] == [("whatsapp", leads[0]["lead_id"])]

    async def test_a_message_with_a_booking_intent_becomes_a_booking_request(
        self, intake: Any
    ) -> None:
        phone = await intake.new_tenant()
        slot = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
        intent = BookingIntent("svc-cleaning", "loc-kifisia", slot, call_id="call-1")
        response = await post_whatsapp(
            intake,
            phone.tenant_id,
            notification(wamid(), f"Hi, I'd like to book {intent.marker()}"),
        )
        assert response.json()["booking"] == 1
        requests = await intake.published(BOOKING_REQUESTS, phone.tenant_id, "BookingRequested")
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

    async def test_a_payload_of_the_wrong_shape_gets_a_422(self, intake: Any) -> None:
        response = await post_whatsapp(intake, "t1", {"entry": [{"changes": [{"value": 3}]}]})
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"].startswith("entry[0].changes[0].value")


class TestFrontDeskQueue:
    async def test_tasks_come_most_urgent_first_and_live_over_sse(self, intake: Any) -> None:
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

    async def test_claim_attempt_and_close(self, intake: Any) -> None:
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
            CALLS_EVENTS, phone.tenant_id, "CallbackAttemptRecorded", expected=2
        )
        assert [a["result"] for a in attempts] == ["no_answer", "reached"]

    async def test_a_staff_token_cannot_read_the_queue(self, intake: Any) -> None:
        response = await intake.service.client.get("/v1/callbacks", headers=bearer("staff", "t1"))
        assert response.status_code == 403


async def _sse(lines: Any) -> Any:
    event, data = "message", ""
    async for line in lines:
        if line.startswith("event:"):
            event = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data += line.removeprefix("data:").strip()
        elif not line and data:
            yield event, json.loads(data)
            event, data = "message", ""
