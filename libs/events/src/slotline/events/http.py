"""HTTP plumbing shared by every service: health, readiness, metrics, tracing."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from eventsourcing.persistence import IntegrityError
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from opentelemetry import trace
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from slotline.events.context import caused_by
from slotline.events.telemetry import scrub_span_urls
from slotline.events.unit_of_work import ContentionTooHigh

ReadinessCheck = Callable[[], Awaitable[tuple[bool, str]]]
"""Returns (ready, detail) for one dependency."""

CORRELATION_HEADER = "X-Correlation-ID"

ErrorStatus = int
"""The HTTP status a domain exception is answered with."""


def operations_router(registry: CollectorRegistry, checks: dict[str, ReadinessCheck]) -> APIRouter:
    """``/healthz`` (the process lives), ``/readyz`` (its dependencies answer), ``/metrics``."""
    router = APIRouter(tags=["operations"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        results = {name: await check() for name, check in checks.items()}
        ready = all(ok for ok, _ in results.values())
        body = {
            "status": "ready" if ready else "not ready",
            "checks": {
                name: {"ok": ok, "detail": detail} for name, (ok, detail) in results.items()
            },
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    @router.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router


class RequestContextMiddleware:
    """Times requests per route (to the response's start: a stream's life is not its
    latency) and makes the request the cause of what it stores.

    Plain ASGI: Starlette's ``BaseHTTPMiddleware`` runs every request's app in a task
    of its own behind memory streams, which py-spy showed in every request's path."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
        self.latency = Histogram(
            "slotline_http_request_seconds",
            "HTTP request latency",
            ["method", "route", "status"],
            registry=registry,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        correlation_id = Headers(scope=scope).get(CORRELATION_HEADER)
        timed = False

        def observe(status: int) -> None:
            nonlocal timed
            timed = True
            path = getattr(scope.get("route"), "path", "unmatched")
            elapsed = time.perf_counter() - started
            self.latency.labels(scope["method"], path, str(status)).observe(elapsed)

        async def starting(message: Message) -> None:
            if message["type"] == "http.response.start":
                observe(message["status"])
                if correlation_id:
                    MutableHeaders(scope=message)[CORRELATION_HEADER] = correlation_id
            await send(message)

        with caused_by(correlation_id):
            try:
                await self.app(scope, receive, starting)
            except BaseException:
                if not timed:
                    observe(500)
                raise


def instrument(app: FastAPI, registry: CollectorRegistry) -> None:
    """Attach tracing and request metrics to ``app``."""
    app.add_middleware(RequestContextMiddleware, registry=registry)
    instrument_tracing(app, trace.get_tracer_provider())


def instrument_tracing(app: FastAPI, provider: trace.TracerProvider) -> None:
    """Server spans for every route but the probes, their URLs scrubbed of tokens and
    query strings (``scrub_span_urls``)."""
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        excluded_urls="healthz,readyz,metrics",
        server_request_hook=scrub_span_urls,
    )


def field_errors(errors: Sequence[Any]) -> list[dict[str, str]]:
    """Pydantic errors as ``{field, rule, message}``: which field broke which rule."""
    return [
        {
            "field": _field_path(error.get("loc", ())),
            "rule": str(error.get("type", "invalid")),
            "message": str(error.get("msg", "")),
        }
        for error in errors
    ]


def _field_path(loc: Sequence[Any]) -> str:
    parts = [p for p in loc if p not in ("body", "query", "path", "header")] or list(loc)
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = field_errors(exc.errors())
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return JSONResponse({"detail": f"invalid request: {summary}", "errors": errors}, 422)


async def _contended(request: Request, exc: Exception) -> Response:
    """Writers kept racing for the same aggregate past the retries: nothing was changed,
    and the same request (same idempotency key) may be sent again — a 503, never a 500."""
    return JSONResponse(
        {
            "detail": "too many concurrent changes to the same item; nothing was changed,"
            " send the same request again",
            "error": "ContentionTooHigh",
        },
        503,
        headers={"Retry-After": "1"},
    )


def install_error_handlers(
    app: FastAPI, handlers: Mapping[type[Exception], ErrorStatus] | None = None
) -> None:
    """422s that name each field and rule; domain errors mapped to a status + message."""
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(IntegrityError, _contended)
    app.add_exception_handler(ContentionTooHigh, _contended)
    for error_type, status_code in (handlers or {}).items():

        async def handler(request: Request, exc: Exception, code: int = status_code) -> Response:
            body: dict[str, Any] = {"detail": str(exc), "error": type(exc).__name__}
            if code == 422:  # an invalid request, said like every other (InvalidRequest)
                body["errors"] = [{"field": "", "rule": type(exc).__name__, "message": str(exc)}]
            return JSONResponse(body, code)

        app.add_exception_handler(error_type, handler)
