"""A Twilio-compatible messaging provider that runs here, for tests and benchmarks.

It behaves like the real API where the notifier depends on it: Basic auth with the
account sid and token, ``Messages.json`` answering 201 with a ``sid``, 400 with
Twilio's error codes for invalid or unsubscribed numbers, 503 during an outage,
``Idempotency-Key`` honoured, and signed status callbacks on request.
"""

from __future__ import annotations

import base64
import itertools
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from slotline.events.local.serving import served
from slotline.events.twilio_signature import twilio_signature
from slotline.notifier.channels.twilio import valid_number


@dataclass
class ProviderSimulator:
    account_sid: str = "AC_test"
    auth_token: str = "test-token"  # noqa: S105 — a local simulator's token
    outage_requests: int = 0  # the next N requests answer 503
    unsubscribed: set[str] = field(default_factory=set)  # answer 400 code 21610
    accepted: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    _by_key: dict[str, str] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def to(self, phone: str) -> list[dict[str, Any]]:
        """Messages accepted for ``phone`` (either channel)."""
        return [m for m in self.accepted if m["To"].removeprefix("whatsapp:") == phone]

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/2010-04-01/Accounts/{sid}/Messages.json")
        async def create(sid: str, request: Request) -> JSONResponse:
            self.requests += 1
            if not self._authorised(sid, request.headers.get("authorization", "")):
                return _error(401, 20003, "Authenticate")
            if self.outage_requests > 0:
                self.outage_requests -= 1
                return _error(503, 20500, "Service unavailable")
            form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
            to = form.get("To", "").removeprefix("whatsapp:")
            if not valid_number(to):
                return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
            if to in self.unsubscribed:
                return _error(400, 21610, "Attempt to send to unsubscribed recipient")
            if not form.get("Body") and not form.get("ContentSid"):
                return _error(400, 21602, "Message body is required.")
            key = request.headers.get("idempotency-key")
            if key and key in self._by_key:
                return JSONResponse({"sid": self._by_key[key], "status": "queued"}, 201)
            message_sid = f"SM{next(self._ids):032d}"
            if key:
                self._by_key[key] = message_sid
            self.accepted.append({**form, "sid": message_sid, "at": time.time(), "key": key})
            return JSONResponse({"sid": message_sid, "status": "queued", "to": form["To"]}, 201)

        return app

    def _authorised(self, sid: str, header: str) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return sid == self.account_sid and header == f"Basic {expected}"

    async def report(self, message_sid: str, status: str, error_code: str | None = None) -> int:
        """Send the signed status callback a real provider would send."""
        message = next(m for m in self.accepted if m["sid"] == message_sid)
        url = message["StatusCallback"]
        params = [("MessageSid", message_sid), ("MessageStatus", status)]
        if error_code:
            params.append(("ErrorCode", error_code))
        signature = twilio_signature(self.auth_token, url, params)
        async with httpx.AsyncClient() as client:
            response = await client.post(
                url, data=dict(params), headers={"X-Twilio-Signature": signature}
            )
        return response.status_code


def _error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "status": status}, status)


@asynccontextmanager
async def serving(simulator: ProviderSimulator, port: int) -> AsyncIterator[str]:
    """Serve the simulator on ``port`` until the block ends; yields its base URL."""
    async with served(simulator.app(), port) as url:
        yield url
