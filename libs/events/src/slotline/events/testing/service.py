"""Running a whole service in-process on a real port, for tests over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from slotline.events.auth import DEV_SECRET, TokenIssuer
from slotline.events.runtime import Runtime, ServiceSpec, build_http_app
from slotline.events.testing.reading import eventually


def bearer(role: str, tenant: str, subject: str | None = None) -> dict[str, str]:
    """An ``Authorization`` header with a dev token granting ``role`` in ``tenant``."""
    token = TokenIssuer(DEV_SECRET).mint(
        subject or f"{role}-1", tenant, [role], timedelta(minutes=30)
    )
    return {"Authorization": f"Bearer {token}"}


@dataclass
class RunningService:
    client: httpx.AsyncClient
    app: FastAPI
    base_url: str

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime


@asynccontextmanager
async def running(spec: ServiceSpec[Any]) -> AsyncIterator[RunningService]:
    """Serve ``spec`` with uvicorn on its configured port until the block ends."""
    app = build_http_app(spec)
    port = spec.settings.http_port
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_config=None))
    task = asyncio.create_task(server.serve())
    base_url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:

        async def ready() -> bool:
            if task.done():
                task.result()  # startup failed: show why
            try:
                return (await client.get("/readyz")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(ready, timeout=30)
        try:
            yield RunningService(client, app, base_url)
        finally:
            server.should_exit = True
            await task
