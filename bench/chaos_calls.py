"""The chaos run's callers: missed calls to call-intake while services die, and what each
must leave behind — one text-back accepted by the SMS provider, one open callback task.

The text-backs are counted by ``chaos_sends.SentOnce``, by the number each went to: a
send a ``kill -9`` cut off is never sent again and is reported failed ("interrupted");
such a caller, with no message and that report, is counted in
``chaos_text_backs_interrupted``, not as a violation; a caller with no message and no
report, or with two, is one.

The calls come as a phone carrier sends them: signed Twilio webhooks (``/voice``, then
the Dial outcome ``no-answer``), each sent again until call-intake answers (a carrier
retries a webhook that failed). Every caller has a number of its own, so a second
message to it is a doubled text-back.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
from chaos_sends import SentOnce
from support import say

from slotline.call_intake.domain.call import Call
from slotline.events.twilio_signature import twilio_signature
from slotline.notifier.simulator import ProviderSimulator

TWILIO_AUTH_TOKEN = "chaos-twilio-auth-token"
LINE = "+302100000001"


def call_plan() -> dict[str, Any]:
    return {
        "business_name": "Chaos Clinic",
        "time_zone": "Europe/Athens",
        "hours": [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(7)],
        "teams": [
            {"team_id": "desk", "members": [{"staff_id": "maria", "phone": "+302100000011"}]}
        ],
        "lines": [{"number": LINE, "team_id": "desk"}],
        "booking_url": "https://book.example.com/chaos",
        "voicemail": True,
    }


class MissedCalls:
    """Missed calls from distinct numbers, and the invariants they must satisfy."""

    def __init__(self, intake_url: str, tenant: str, manager_token: str) -> None:
        self.intake_url = intake_url
        self.tenant = tenant
        self.headers = {"Authorization": f"Bearer {manager_token}"}
        self.callers: dict[str, str] = {}  # call id → caller
        self.phones: dict[str, str] = {}  # caller → call id

    async def set_up(self) -> None:
        async with httpx.AsyncClient(base_url=self.intake_url, timeout=30) as http:
            answer = await http.put("/v1/call-plan", json=call_plan(), headers=self.headers)
            answer.raise_for_status()

    async def run(self, every: float, until: float) -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            n = 0
            while time.monotonic() < until:
                n += 1
                caller = f"+35799{n:06d}"  # Cyprus mobiles: nobody else in the run uses them
                sid = f"CA{uuid.uuid4().hex}"
                answered = await self._webhook(
                    http, "/voice", {"CallSid": sid, "From": caller, "To": LINE}
                ) and await self._webhook(
                    http, "/dial?step=0", {"CallSid": sid, "DialCallStatus": "no-answer"}
                )
                if answered:
                    call_id = str(Call.create_id(self.tenant, sid))
                    self.callers[call_id], self.phones[caller] = caller, call_id
                await asyncio.sleep(every)

    async def _webhook(self, http: httpx.AsyncClient, path: str, params: dict[str, str]) -> bool:
        url = f"{self.intake_url}/v1/telephony/{self.tenant}{path}"
        signature = twilio_signature(TWILIO_AUTH_TOKEN, url, params.items())
        for _ in range(30):  # the carrier tries again while call-intake restarts
            try:
                answer = await http.post(
                    url, data=params, headers={"X-Twilio-Signature": signature}
                )
                if answer.status_code < 500:
                    if answer.status_code >= 300:
                        say(f"call webhook {path} refused: {answer.status_code} {answer.text}")
                        return False
                    return True
            except httpx.TransportError:
                pass
            await asyncio.sleep(1)
        return False

    def text_backs(self, provider: ProviderSimulator) -> SentOnce:
        """One text-back per missed call (its notification id is ``textback:<call id>``)."""

        def caller_of(message: dict[str, Any]) -> str | None:
            return self.phones.get(str(message.get("To", "")).removeprefix("whatsapp:"))

        return SentOnce(
            provider, self.callers, caller_of, prefix="textback:", noun="callers", what="text-back"
        )

    async def callback_task_violations(self) -> int:
        """Missed calls with other than exactly one open callback task."""
        async with httpx.AsyncClient(base_url=self.intake_url, timeout=30) as http:
            answer = await http.get("/v1/callbacks", headers=self.headers)
            answer.raise_for_status()
        tasks: dict[str, int] = {}
        for task in answer.json():
            if task.get("call_id"):
                tasks[task["call_id"]] = tasks.get(task["call_id"], 0) + 1
        wrong = {c: tasks.get(c, 0) for c in self.callers if tasks.get(c, 0) != 1}
        if wrong:
            say(f"missed calls without exactly one callback task (call: tasks): {wrong}")
        return len(wrong)
