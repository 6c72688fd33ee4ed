"""One other service over HTTP: a pooled client, bearer tokens, and one way to fail.

A service that cannot be reached, or answers 5xx, raises :class:`ServiceUnavailable`
(the page says "try again in a minute"); every other answer is returned for the
caller to read, because a 409 or 422 is an outcome the page explains.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx


class ServiceUnavailable(Exception):
    """Another service did not answer usefully; the customer can only try again later."""

    def __init__(self, service: str, detail: str) -> None:
        super().__init__(f"{service}: {detail}")
        self.service = service


@dataclass(frozen=True)
class StreamEvent:
    """One Server-Sent Event read from another service."""

    event: str
    data: str

    def json(self) -> Any:
        return json.loads(self.data) if self.data else None


class Upstream:
    def __init__(self, name: str, base_url: str, timeout: float) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.client = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=3.0),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=40),
        )

    async def call(
        self, method: str, path: str, *, token: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = await self.client.request(method, path, headers=headers, **kwargs)
        except httpx.TransportError as error:
            raise ServiceUnavailable(self.name, repr(error)) from error
        if response.status_code >= 500:
            raise ServiceUnavailable(self.name, f"{response.status_code} {response.text[:200]}")
        return response

    async def json(self, path: str, *, token: str | None = None, **kwargs: Any) -> Any:
        """GET a JSON body that must be there (anything but 2xx is unavailable)."""
        response = await self.call("GET", path, token=token, **kwargs)
        if response.status_code >= 300:
            raise ServiceUnavailable(self.name, f"{response.status_code} {response.text[:200]}")
        return response.json()

    async def events(
        self, path: str, *, token: str | None = None, params: dict[str, Any] | None = None
    ) -> AsyncIterator[StreamEvent]:
        """The Server-Sent Events of ``path`` until the other side ends the stream."""
        headers = {"Accept": "text/event-stream"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        timeout = httpx.Timeout(None, connect=3.0)
        try:
            async with self.client.stream(
                "GET", path, headers=headers, params=params, timeout=timeout
            ) as response:
                if response.status_code != 200:
                    raise ServiceUnavailable(self.name, f"stream answered {response.status_code}")
                event, data = "message", list[str]()
                async for line in response.aiter_lines():
                    if not line:
                        if data:
                            yield StreamEvent(event, "\n".join(data))
                        event, data = "message", []
                    elif line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:"):
                        data.append(line[5:].removeprefix(" "))
        except httpx.TransportError as error:
            raise ServiceUnavailable(self.name, repr(error)) from error

    async def close(self) -> None:
        await self.client.aclose()
