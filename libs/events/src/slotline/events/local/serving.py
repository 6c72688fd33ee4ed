"""Serving a small ASGI app (a provider simulator, a test receiver) on a local port for
the length of a block, for the local stack, benchmarks and tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn


@asynccontextmanager
async def served(app: Any, port: int, graceful_seconds: int | None = None) -> AsyncIterator[str]:
    """Serve ``app`` on ``port`` until the block ends; yields its base URL once it
    listens. ``graceful_seconds`` bounds the wait for open connections at the end (a
    hanging request of a test must not hold the block's exit)."""
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            port=port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=graceful_seconds,
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # it could not start: show why
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
