"""Test support for call-intake (its tests start the service themselves): a clock the
tests move, settings on the test infrastructure, a call plan, a Twilio-shaped client that
signs (or mis-signs) webhooks, and the running service with its tenant's view of Kafka."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
from faststream.kafka import KafkaBroker

from slotline.call_intake.application import CallIntakeApplication
from slotline.call_intake.settings import CallIntakeSettings
from slotline.events.contract.registry import ContractViolation, parse_message
from slotline.events.envelope import Message
from slotline.events.local.infra import free_port
from slotline.events.testing.reading import read_topic
from slotline.events.testing.service import RunningService, bearer
from slotline.events.twilio_signature import twilio_signature
from slotline.events.wire_sealing import open_record

# Tuesday 1 December 2026, 10:00 in Athens: the clinic is open, Greek callers are awake.
OPEN_HOURS = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
AUTH_TOKEN = "test-auth-token-0123456789abcdef"  # noqa: S105 — the tests' Twilio token
BUSINESS_LINE = "+302100000001"
MANAGER_PHONE = "+306900000009"


class Clock:
    """The service's clock, moved by the tests (the SLA job reads it)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def settings_for(database_url: str, bootstrap: str) -> CallIntakeSettings:
    return CallIntakeSettings(
        database_url=database_url,
        kafka_bootstrap=bootstrap,
        http_port=free_port(),
        twilio_auth_token=AUTH_TOKEN,
        relay_idle_poll_seconds=0.2,
        sla_interval_seconds=0.2,
    )


def plan(**changes: Any) -> dict[str, Any]:
    """A clinic open 08:00–20:00 on weekdays in Athens, one desk team, a manager."""
    base: dict[str, Any] = {
        "business_name": "Kifisia Dental",
        "time_zone": "Europe/Athens",
        "hours": [{"weekday": d, "start": "08:00", "end": "20:00"} for d in range(5)],
        "teams": [
            {
                "team_id": "desk",
                "members": [
                    {"staff_id": "maria", "phone": "+302100000011"},
                    {"staff_id": "nikos", "phone": "+302100000012"},
                ],
            }
        ],
        "lines": [{"number": BUSINESS_LINE, "team_id": "desk"}],
        "manager": {"staff_id": "eleni", "phone": MANAGER_PHONE, "email": "eleni@example.com"},
        "booking_url": "https://book.example.com/kifisia",
    }
    return base | changes


@dataclass
class Telephony:
    """Sends Twilio-shaped webhooks for one tenant, signed like Twilio signs them."""

    service: RunningService
    tenant_id: str
    token: str = AUTH_TOKEN
    whatsapp_number_id: str = ""

    async def post(
        self, path: str, params: dict[str, str], *, signature: str | None = None
    ) -> httpx.Response:
        url = f"{self.service.base_url}/v1/telephony/{self.tenant_id}{path}"
        signed = twilio_signature(self.token, url, params.items())
        headers = {"X-Twilio-Signature": signature if signature is not None else signed}
        return await self.service.client.post(url, data=params, headers=headers)

    async def incoming(
        self, call_sid: str, caller: str, line: str = BUSINESS_LINE
    ) -> httpx.Response:
        return await self.post(
            "/voice",
            {
                "CallSid": call_sid,
                "From": caller,
                "To": line,
                "Direction": "inbound",
                "CallStatus": "ringing",
                "AccountSid": "AC-test",
            },
        )

    async def dial_ended(
        self, call_sid: str, status: str, step: int = 0, answered_by: str | None = None
    ) -> httpx.Response:
        params = {"CallSid": call_sid, "DialCallStatus": status, "DialCallSid": f"{call_sid}-leg"}
        if answered_by:
            params["AnsweredBy"] = answered_by
        return await self.post(f"/dial?step={step}", params)

    async def missed_call(self, call_sid: str, caller: str) -> None:
        """A call nobody answers: ring the team, then no-answer (voicemail follows)."""
        assert (await self.incoming(call_sid, caller)).status_code == 200
        assert (await self.dial_ended(call_sid, "no-answer")).status_code == 200


@dataclass
class Intake:
    """The running service, its clock and its tenant's view of Kafka."""

    service: RunningService
    clock: Clock

    @property
    def app(self) -> CallIntakeApplication:
        return cast(CallIntakeApplication, self.service.runtime.application)

    @property
    def settings(self) -> CallIntakeSettings:
        settings = self.service.runtime.settings
        assert isinstance(settings, CallIntakeSettings)
        return settings

    @property
    def broker(self) -> KafkaBroker:
        broker = self.service.runtime.broker
        assert broker is not None, "the service runs without a broker"
        return broker

    @property
    def bootstrap(self) -> str:
        return self.service.runtime.settings.kafka_bootstrap

    async def new_tenant(self, **plan_changes: Any) -> Telephony:
        """A tenant with the plan above and a WhatsApp number of its own (Meta's ids
        are digits)."""
        tenant = f"clinic-{uuid.uuid4().hex[:10]}"
        whatsapp_id = str(uuid.uuid4().int)[:15]
        changes = {"whatsapp_numbers": [{"phone_number_id": whatsapp_id}]} | plan_changes
        response = await self.service.client.put(
            "/v1/call-plan", json=plan(**changes), headers=bearer("manager", tenant)
        )
        assert response.status_code == 200, response.text
        return Telephony(self.service, tenant, whatsapp_number_id=whatsapp_id)

    async def published(
        self,
        topic: str,
        tenant_id: str,
        kind: type[Message],
        *,
        expected: int = 1,
        settle: float = 1.0,
    ) -> list[dict[str, Any]]:
        """This tenant's ``kind`` messages on ``topic`` (parsed by the contract, matched by
        class), as the records' JSON, read until quiet."""
        found: list[dict[str, Any]] = []
        for _ in range(3):
            records = await read_topic(
                self.bootstrap, topic, expected=1, timeout=10, settle_seconds=settle
            )
            found = [
                open_record(json.loads(r.value or b"{}"))
                for r in records
                if isinstance(m := _parsed(topic, r.value), kind) and m.tenant_id == tenant_id
            ]
            if len(found) >= expected:
                return found
        return found


def _parsed(topic: str, value: bytes | None) -> Message | None:
    """A record as its contract class; None for one no consumer would take either."""
    try:
        return parse_message(topic, value or b"")
    except ContractViolation:
        return None
