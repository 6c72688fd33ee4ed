"""No stack trace ever reaches a customer: every failure is a page that says what
happened and what to do next (API callers of the manage link get JSON instead)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from slotline.events.http import field_errors
from slotline.events.logs import get_logger
from slotline.web.clients.upstream import ServiceUnavailable
from slotline.web.rendering import render

log = get_logger(__name__)


def wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code in (302, 303) and exc.headers and "Location" in exc.headers:
        return RedirectResponse(exc.headers["Location"], exc.status_code)
    if wants_json(request):
        return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)
    page = "errors/not_found.html" if exc.status_code == 404 else "errors/problem.html"
    return render(request, page, exc.status_code, code=exc.status_code, detail=str(exc.detail))


async def _invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = field_errors(exc.errors())
    if wants_json(request):
        return JSONResponse({"detail": "invalid request", "errors": errors}, 422)
    return render(request, "errors/invalid.html", 422, errors=errors)


async def _unavailable(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceUnavailable)
    log.warning("service unavailable", service=exc.service, error=str(exc), path=request.url.path)
    if wants_json(request):
        return JSONResponse({"detail": f"{exc.service} is not answering; try again"}, 503)
    return render(request, "errors/unavailable.html", 503, headers_retry=True)


async def _crashed(request: Request, exc: Exception) -> Response:
    log.error("page failed", path=request.url.path, error=repr(exc), exc_info=exc)
    if wants_json(request):
        return JSONResponse({"detail": "something went wrong on our side; try again"}, 500)
    return render(request, "errors/crashed.html", 500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(ServiceUnavailable, _unavailable)
    app.add_exception_handler(Exception, _crashed)
