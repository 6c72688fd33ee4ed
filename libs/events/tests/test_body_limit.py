"""Request bodies are capped before a service reads them: 413, the limit named."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request

from slotline.events.body_limit import BodyLimit

pytestmark = pytest.mark.unit


def app() -> FastAPI:
    api = FastAPI()

    @api.post("/v1/things")
    async def things(request: Request) -> dict[str, int]:
        return {"read": len(await request.body())}

    @api.post("/v1/webhooks/gateway")
    async def webhook(request: Request) -> dict[str, int]:
        return {"read": len(await request.body())}

    api.add_middleware(BodyLimit, limit=64 * 1024, webhook_limit=1024 * 1024)
    return api


async def post(path: str, content: bytes | AsyncIterator[bytes]) -> httpx.Response:
    transport = httpx.ASGITransport(app=app())
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        return await client.post(path, content=content)


async def test_a_body_within_the_limit_is_read() -> None:
    answer = await post("/v1/things", b"x" * 1000)
    assert answer.json() == {"read": 1000}


async def test_a_declared_body_over_the_limit_is_refused_unread() -> None:
    answer = await post("/v1/things", b"x" * (64 * 1024 + 1))
    assert answer.status_code == 413
    assert "64 KB" in answer.json()["detail"]


async def test_a_streamed_body_without_a_length_is_cut_off_too() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b"x" * 1024

    answer = await post("/v1/things", chunks())
    assert answer.status_code == 413


async def test_a_webhook_may_be_larger() -> None:
    answer = await post("/v1/webhooks/gateway", b"x" * (200 * 1024))
    assert answer.json() == {"read": 200 * 1024}
    assert (await post("/v1/webhooks/gateway", b"x" * (1025 * 1024))).status_code == 413
