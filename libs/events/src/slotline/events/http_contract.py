"""What every service's HTTP API promises, and the guards that keep the promise.

- Text PostgreSQL cannot store (NUL, lone surrogates) in the path, the query or a JSON
  body is answered 422 at the edge, before a route sees it.
- A 405 names every method the path allows (Starlette names only the first route's).
- The OpenAPI document says what the service really answers: 422 bodies are
  ``InvalidRequest`` (not FastAPI's ``HTTPValidationError``), authenticated operations
  document 401 and 403, operations with path parameters 404, writes the 409 the service
  maps its domain errors to and the 503 of a write that keeps losing races, and
  ``/metrics`` is Prometheus text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from slotline.events.text import first_unstorable, unstorable

_WRITE_METHODS = {"post", "put", "patch", "delete"}

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, for a person."},
        "error": {"type": "string", "description": "The kind of failure, for a program."},
    },
}

INVALID_REQUEST_SCHEMA: dict[str, Any] = {
    "title": "InvalidRequest",
    "type": "object",
    "required": ["detail", "errors"],
    "properties": {
        "detail": {"type": "string", "description": "Every broken field, in one line."},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "rule", "message"],
                "properties": {
                    "field": {"type": "string"},
                    "rule": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}

_DESCRIPTIONS = {
    401: "No valid access token.",
    403: "The token's role or tenant may not do this.",
    404: "No such item in the caller's tenant.",
    409: "The request conflicts with the item's state.",
    413: "The request body is too large.",
    429: "Too many requests; retry after the time in Retry-After.",
    503: "Too many concurrent changes, or a dependency is unavailable; retry.",
}


class StorableTextGuard:
    """Refuse (422) text PostgreSQL cannot store, in the URL or a JSON body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = _url_problem(scope)
        if problem is None and _is_json(scope):
            body, receive = await _buffered(receive)
            problem = _body_problem(body)
        if problem is None:
            await self.app(scope, receive, send)
            return
        where, reason = problem
        detail = f"invalid request: {where}: {reason}"
        errors = [{"field": where, "rule": "storable_text", "message": reason}]
        response = JSONResponse({"detail": detail, "errors": errors}, 422)
        await response(scope, receive, send)


def _url_problem(scope: Scope) -> tuple[str, str] | None:
    path = scope.get("path", "")
    if (reason := unstorable(path)) is not None:
        return "path", reason
    query = scope.get("query_string", b"").decode("latin-1")
    if "%" not in query:
        return None
    for name, value in parse_qsl(query, keep_blank_values=True):
        for text in (name, value):
            if (reason := unstorable(text)) is not None:
                return f"query.{unquote(name, errors='replace')[:40]}", reason
    return None


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return b"json" in value
    return False


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole body, and a ``receive`` that replays it to the app."""
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


def _body_problem(body: bytes) -> tuple[str, str] | None:
    if b"\\u" not in body:  # NUL and lone surrogates arrive only as JSON escapes
        return None
    try:
        decoded = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None  # malformed JSON: the route's validation answers it
    return first_unstorable(decoded)


_UNPARSEABLE_BODY = "There was an error parsing the body"


async def method_not_allowed(request: Request, exc: Exception) -> Response:
    """405 with every method the path allows (HEAD is implied by GET, not documented);
    a body FastAPI cannot parse is a 422 like any invalid request; other HTTP errors as
    FastAPI answers them."""
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 400 and exc.detail == _UNPARSEABLE_BODY:
        errors = [{"field": "body", "rule": "json_invalid", "message": "not a JSON document"}]
        return JSONResponse({"detail": "invalid request: body: not JSON", "errors": errors}, 422)
    if exc.status_code == 405:
        allowed: set[str] = set()
        for route in request.app.router.routes:
            match, _ = route.matches(request.scope)
            if match is Match.PARTIAL and getattr(route, "methods", None):
                allowed |= set(route.methods)
        allowed.discard("HEAD")
        if allowed:
            headers["Allow"] = ", ".join(sorted(allowed))
    return JSONResponse({"detail": exc.detail}, exc.status_code, headers=headers or None)


def truthful_openapi(app: FastAPI, error_statuses: Mapping[type[Exception], int]) -> None:
    """Make ``app.openapi()`` document what the service answers (see the module doc)."""
    mapped = set(error_statuses.values())

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = get_openapi(
            title=app.title, version=app.version, routes=app.routes, description=app.description
        )
        _document_errors(document, mapped)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


STORABLE_TEXT = "^[^\\u0000\\ud800-\\udfff]*$"
"""Text PostgreSQL can store: no NUL, no lone surrogate (a JSON Schema ECMA regex)."""


def _storable_strings(node: Any) -> None:
    """Every free string of the document says it refuses NUL and lone surrogates, as the
    edge does (strings with a pattern, format or fixed values say more already)."""
    if isinstance(node, dict):
        if node.get("type") == "string" and not {"pattern", "format", "enum", "const"} & set(node):
            node["pattern"] = STORABLE_TEXT
        for value in node.values():
            _storable_strings(value)
    elif isinstance(node, list):
        for value in node:
            _storable_strings(value)


def _document_errors(document: dict[str, Any], mapped: set[int]) -> None:
    _storable_strings(document.get("components", {}))
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            _storable_strings(operation.get("parameters", []))
            _storable_strings(operation.get("requestBody", {}))
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["InvalidRequest"] = INVALID_REQUEST_SCHEMA
    problem = {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    invalid = {"application/json": {"schema": {"$ref": "#/components/schemas/InvalidRequest"}}}
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            if path == "/metrics":
                responses["200"] = {
                    "description": "Prometheus metrics (text exposition format).",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                }
                continue
            wanted: set[int] = set()
            if operation.get("security"):
                wanted |= {401, 403}
            parameters = operation.get("parameters", [])
            if any(p.get("in") == "path" for p in parameters):
                wanted.add(404)  # the item the path names may not exist
            elif any(p.get("in") == "query" for p in parameters) and 404 in mapped:
                wanted.add(404)  # a query may name one that does not exist
            if method in _WRITE_METHODS:  # any write may keep losing races: 503 (http.py)
                wanted |= (mapped & {409}) | {503}
            if "requestBody" in operation:  # bodies are capped (body_limit.py)
                wanted.add(413)
            if parameters or "requestBody" in operation or "422" in responses:
                responses["422"] = {"description": "Invalid request.", "content": invalid}
            for status in sorted(wanted):
                responses.setdefault(
                    str(status), {"description": _DESCRIPTIONS[status], "content": problem}
                )
