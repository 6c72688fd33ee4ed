"""One attempt of one delivery: a POST signed as Standard Webhooks say, to the address
the SSRF guard checked, with a bounded time and a bounded read of the answer.

Headers: ``webhook-id`` (the delivery's stable id: a receiver de-duplicates by it),
``webhook-timestamp`` (seconds, wall clock) and ``webhook-signature`` — ``v1,<base64
HMAC-SHA256 of id.timestamp.body>`` for every key that signs now, space-separated, so a
receiver verifies with the old or the new secret while a rotation overlaps. The body is
the public event's JSON. Redirects are not followed; 2xx is delivered, anything else
(or no answer in time) is a failed attempt.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

import httpx
from standardwebhooks import Webhook

from slotline.events.outbound import AddressGuard, UnsafeUrl
from slotline.notifier.domain.webhooks import signing_keys
from slotline.notifier.persistence.webhooks import AttemptOutcome, Claimed

EXCERPT_CHARS = 500
"""Of the receiver's answer, this much is kept in the delivery log."""

USER_AGENT = "Slotline-Webhooks/1"


def signature_header(claimed: Claimed, timestamp: datetime) -> str:
    """Every key that signs at ``timestamp`` signs the delivery (newest first)."""
    keys = signing_keys(claimed.keys, timestamp)
    return " ".join(
        Webhook(k.secret).sign(claimed.delivery_id, timestamp, claimed.body) for k in keys
    )


def _pinned(url: str, address: str) -> tuple[str, str]:
    """``url`` sent to ``address``, and the Host header that names the original host."""
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = host + (f":{parts.port}" if parts.port else "")
    original = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")), original


class WebhookHttp:
    """Sends attempts (one ``httpx.AsyncClient`` with a pool per process)."""

    def __init__(
        self,
        guard: AddressGuard,
        *,
        timeout_seconds: float = 10.0,
        max_response_bytes: int = 65536,
        concurrency: int = 50,
    ) -> None:
        self.guard = guard
        self.timeout_seconds = timeout_seconds
        self.max_response_bytes = max_response_bytes
        self.concurrency = concurrency
        self.client = self._client()

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=httpx.Timeout(self.timeout_seconds),
            follow_redirects=False,
            trust_env=False,
            limits=httpx.Limits(
                max_connections=self.concurrency, max_keepalive_connections=self.concurrency
            ),
            headers={"User-Agent": USER_AGENT},
        )

    async def close(self) -> None:
        """Close the pool (a later :meth:`send` opens a new one)."""
        await self.client.aclose()

    async def send(self, claimed: Claimed, now: datetime) -> AttemptOutcome:
        if self.client.is_closed:
            self.client = self._client()
        started = time.perf_counter()

        def outcome(
            status: int | None, excerpt: str = "", error: str | None = None
        ) -> AttemptOutcome:
            latency = (time.perf_counter() - started) * 1000
            return AttemptOutcome(claimed, now, status, round(latency, 3), excerpt, error)

        try:
            async with asyncio.timeout(self.timeout_seconds):
                address = await self.guard.address_for(claimed.url)
                url, host = _pinned(claimed.url, address)
                headers = {
                    "Host": host,
                    "Content-Type": "application/json",
                    "webhook-id": claimed.delivery_id,
                    "webhook-timestamp": str(int(now.timestamp())),
                    "webhook-signature": signature_header(claimed, now),
                }
                extensions = {"sni_hostname": urlsplit(claimed.url).hostname or ""}
                request = self.client.build_request(
                    "POST",
                    url,
                    content=claimed.body.encode(),
                    headers=headers,
                    extensions=extensions,
                )
                response = await self.client.send(request, stream=True)
                try:
                    read = bytearray()
                    async for chunk in response.aiter_raw():
                        read += chunk[: self.max_response_bytes - len(read)]
                        if len(read) >= self.max_response_bytes:
                            break
                finally:
                    await response.aclose()
                excerpt = bytes(read).decode(errors="replace")[:EXCERPT_CHARS]
                error = (
                    None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
                )
                return outcome(response.status_code, excerpt, error)
        except UnsafeUrl as refused:
            return outcome(None, error=f"refused: {refused}")
        except TimeoutError:
            return outcome(None, error=f"no answer within {self.timeout_seconds:g} s")
        except httpx.HTTPError as failed:
            return outcome(None, error=f"{type(failed).__name__}: {failed}"[:500])
