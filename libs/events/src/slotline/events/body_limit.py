"""A cap on request bodies: 413 before a service reads (or parses) more than it needs.

JSON requests are small; a body of megabytes is an attack on memory, not a booking.
Webhooks (a provider's payloads) get a larger cap. The limit holds for a declared
``Content-Length`` and for a body streamed without one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

Scope = dict[str, Any]
WEBHOOK_PATHS: tuple[str, ...] = ("/v1/webhooks/", "/v1/telephony/", "/v1/whatsapp/", "/providers/")
"""Where providers post their payloads (payments, call-intake, notifier)."""


class _TooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: bodies over ``limit`` bytes (``webhook_limit`` on the webhook
    paths) are answered 413 with the limit named."""

    def __init__(
        self,
        app: Any,
        limit: int,
        webhook_limit: int,
        webhook_paths: Sequence[str] = WEBHOOK_PATHS,
    ) -> None:
        self.app = app
        self.limit = limit
        self.webhook_limit = webhook_limit
        self.webhook_paths = tuple(webhook_paths)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        limit = self.webhook_limit if path.startswith(self.webhook_paths) else self.limit
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(send, limit)
            return
        received = 0
        started = False

        async def counted() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        async def watched(message: Any) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if not started:
                await _refuse(send, limit)


async def _refuse(send: Any, limit: int) -> None:
    body = json.dumps(
        {"detail": f"request body too large: at most {limit // 1024} KB here"}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
