"""The request middleware every service has: a request's correlation id is the cause of
what it stores and comes back on the response; its latency is counted per route and
status, a failure as a 500 — over a real HTTP server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from slotline.events.context import event_metadata
from slotline.events.http import CORRELATION_HEADER, instrument
from slotline.events.local.infra import free_port

pytestmark = pytest.mark.unit


def service(registry: CollectorRegistry) -> FastAPI:
    app = FastAPI()
    instrument(app, registry)

    @app.get("/items/{item_id}")
    async def item(item_id: str) -> dict[str, str]:
        return {"item": item_id, "correlation_id": event_metadata()["correlation_id"]}

    @app.get("/broken")
    async def broken() -> None:
        raise RuntimeError("a bug")

    return app


@pytest.fixture
async def served() -> AsyncIterator[tuple[str, CollectorRegistry]]:
    registry = CollectorRegistry()
    port = free_port()
    config = uvicorn.Config(service(registry), port=port, log_level="error", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}", registry
    finally:
        server.should_exit = True
        await task


def count(registry: CollectorRegistry, route: str, status: str) -> float | None:
    return registry.get_sample_value(
        "slotline_http_request_seconds_count", {"method": "GET", "route": route, "status": status}
    )


async def test_the_correlation_id_is_the_requests_cause_and_is_answered_back(
    served: tuple[str, CollectorRegistry],
) -> None:
    url, registry = served
    async with httpx.AsyncClient(base_url=url) as client:
        answer = await client.get("/items/7", headers={CORRELATION_HEADER: "corr-42"})
        unnamed = await client.get("/items/8")
    assert answer.status_code == 200
    assert answer.json() == {"item": "7", "correlation_id": "corr-42"}
    assert answer.headers[CORRELATION_HEADER] == "corr-42"
    assert unnamed.json()["correlation_id"] not in ("", "corr-42")  # a fresh one
    assert CORRELATION_HEADER not in unnamed.headers
    assert count(registry, "/items/{item_id}", "200") == 2


async def test_a_failing_route_is_counted_as_a_500_and_unknown_paths_as_unmatched(
    served: tuple[str, CollectorRegistry],
) -> None:
    url, registry = served
    async with httpx.AsyncClient(base_url=url) as client:
        failed = await client.get("/broken")
        missing = await client.get("/nowhere")
    assert failed.status_code == 500
    assert missing.status_code == 404
    assert count(registry, "/broken", "500") == 1
    assert count(registry, "unmatched", "404") == 1
