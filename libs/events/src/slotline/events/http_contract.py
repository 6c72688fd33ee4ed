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

import copy
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from pydantic import BeforeValidator
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from slotline.events.text import first_unstorable, unstorable

SERVER_SENT_EVENT_SCHEMA: dict[str, Any] = {
    "title": "ServerSentEvent",
    "description": "One event of a text/event-stream; its data is JSON text.",
    "type": "object",
    "properties": {
        "event": {"type": "string"},
        "data": {"type": "string"},
        "id": {"type": "string"},
        "retry": {"type": "integer"},
    },
}


def _json_integer(value: Any) -> Any:
    if isinstance(value, bool | str):
        raise ValueError("must be a JSON integer, not a boolean or a string")
    return value


JSON_INTEGER = BeforeValidator(_json_integer)
"""An integer of a JSON body, as its document says (``type: integer``): ``false`` or
``"9"`` are refused, not read as 0 and 9 (pydantic would); ``9.0`` is 9, as in JSON.
Last in ``Annotated[int, Field(ge=…), JSON_INTEGER]``, so the bounds stay in the
document (after it, pydantic writes them as unknown ``ge``/``le`` keywords)."""


class EventStream(Response):
    """``response_class=`` of a Server-Sent Events route, so that its document says so."""

    media_type = "text/event-stream"


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
    403: "The token's role or tenant may not do this, or a provider's signature is wrong.",
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
        kind = _body_kind(scope)
        if problem is None and kind is not None:
            body, receive = await _buffered(receive)
            problem = _body_problem(body) if kind == "json" else _form_problem(body)
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
    return _encoded_problem("query", scope.get("query_string", b"").decode("latin-1"))


def _encoded_problem(where: str, encoded: str) -> tuple[str, str] | None:
    """A NUL or lone surrogate in a percent-encoded ``name=value&…`` (a query, a form)."""
    if "%" not in encoded:
        return None
    for name, value in parse_qsl(encoded, keep_blank_values=True):
        for text in (name, value):
            if (reason := unstorable(text)) is not None:
                return f"{where}.{unquote(name, errors='replace')[:40]}", reason
    return None


def _form_problem(body: bytes) -> tuple[str, str] | None:
    return _encoded_problem("body", body.decode("latin-1"))


def _body_kind(scope: Scope) -> str | None:
    """``json`` or ``form`` for a body the guard reads, None for any other."""
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            if b"json" in value:
                return "json"
            if b"x-www-form-urlencoded" in value:
                return "form"
            return None
    return None


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
    if exc.status_code == 405 and (allowed := _allowed_methods(request)):
        headers["Allow"] = ", ".join(allowed)
    return JSONResponse({"detail": exc.detail}, exc.status_code, headers=headers or None)


_METHODS = ("DELETE", "GET", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route of the path answers, asked of the router as a request with
    that method would be (routes included from a router are not listed flat)."""
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]


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


STORABLE_TEXT = "^[^\\u0000]*$"
"""Text PostgreSQL can store: no NUL (a JSON Schema ECMA regex). Lone surrogates are refused
too, but they are not Unicode text at all (JSON Schema strings are Unicode), and a pattern
naming them is one no regex engine of the tools reading the documents can compile."""


_STORABLE_JSON = {"$ref": "#/components/schemas/StorableJson"}

STORABLE_JSON_SCHEMA: dict[str, Any] = {
    "title": "StorableJson",
    "description": "Any JSON value with no NUL in its text, keys included.",
    "anyOf": [
        {"type": "string", "pattern": STORABLE_TEXT},
        {"type": ["number", "boolean", "null"]},
        {"type": "array", "items": _STORABLE_JSON},
        {
            "type": "object",
            "propertyNames": {"pattern": STORABLE_TEXT},
            "additionalProperties": _STORABLE_JSON,
        },
    ],
}
"""What an object's undeclared members may hold: the edge reads every key and value."""


def _storable_strings(node: Any) -> None:
    """Every free string of the document says it refuses NUL, as the edge does (strings
    with a pattern, a validated format or fixed values say more already); so does every
    key and every value an object may carry beyond its declared properties."""
    if isinstance(node, dict):
        # "password" only hides a value in forms: it says nothing of what the text holds
        free = node.get("format") in (None, "password")
        if node.get("type") == "string" and free and not {"pattern", "enum", "const"} & set(node):
            node["pattern"] = STORABLE_TEXT
        if node.get("type") == "object" and node.get("additionalProperties") is not False:
            node["propertyNames"] = {"pattern": STORABLE_TEXT}
            if node.get("additionalProperties", True) in (True, {}):
                node["additionalProperties"] = _STORABLE_JSON
        for value in node.values():
            _storable_strings(value)
    elif isinstance(node, list):
        for value in node:
            _storable_strings(value)


def refusals(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route that answers these statuses beyond the ones the document
    works out from the route itself (see the module doc) — a webhook's 403 for a bad
    signature, a 404 for an item no path parameter names; the body is a ``Problem``."""
    return {status: {"description": _DESCRIPTIONS[status]} for status in statuses}


def _one_or_many(parameter: dict[str, Any]) -> None:
    """A query array is sent as the parameter repeated, so one value is a list of one
    (``?tag=a`` as well as ``?tag=a&tag=b``): the document says a single value is valid
    too, as the service reads it."""
    if parameter.get("in") != "query":
        return
    schema = parameter.get("schema", {})
    branches = schema.get("anyOf", [schema])
    singles = [
        copy.deepcopy(branch["items"])
        for branch in branches
        if isinstance(branch, dict) and branch.get("type") == "array" and "items" in branch
    ]
    if not singles:
        return
    if "anyOf" in schema:
        schema["anyOf"] = [*schema["anyOf"], *singles]
    else:
        parameter["schema"] = {"anyOf": [schema, *singles]}


def _document_errors(document: dict[str, Any], mapped: set[int]) -> None:
    _storable_strings(document.get("components", {}))
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            _storable_strings(operation.get("parameters", []))
            _storable_strings(operation.get("requestBody", {}))
            for parameter in operation.get("parameters", []):
                _one_or_many(parameter)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["InvalidRequest"] = INVALID_REQUEST_SCHEMA
    schemas["StorableJson"] = STORABLE_JSON_SCHEMA
    schemas["ServerSentEvent"] = SERVER_SENT_EVENT_SCHEMA
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
            for answer in responses.values():
                stream = answer.get("content", {}).get("text/event-stream")
                if stream is not None:
                    stream["schema"] = {"$ref": "#/components/schemas/ServerSentEvent"}
            for status in sorted(wanted):
                responses.setdefault(str(status), {"description": _DESCRIPTIONS[status]})
            for status, response in responses.items():
                if status.startswith(("4", "5")) and status != "422":
                    response.setdefault("content", problem)
