"""``GET /dashboard``: the KPI report as a server-rendered page, for people with a browser.

A browser sends no bearer header, so the page also accepts the token from an
HttpOnly cookie that ``POST /dashboard/session`` sets from a pasted token (``make
token`` prints one). Without a valid token it answers 401 with that form.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.security.utils import get_authorization_scheme_param
from jinja2 import Environment, PackageLoader, select_autoescape

from slotline.analytics.domain.figures import Durations, Ratio
from slotline.analytics.http.deps import READERS, Analytics, ReportPeriod
from slotline.events.auth import AuthenticationError, Principal, TokenVerifier

router = APIRouter(tags=["dashboard"])

COOKIE = "slotline_token"
templates = Environment(
    loader=PackageLoader("slotline.analytics", "templates"),
    autoescape=select_autoescape(["html"]),
)


def percent(ratio: Ratio) -> str:
    return "–" if ratio.rate is None else f"{ratio.rate * 100:.1f} %"


def duration(figure: Durations, which: str = "median_seconds") -> str:
    seconds = getattr(figure, which)
    if seconds is None:
        return "–"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


templates.filters["percent"] = percent
templates.filters["duration"] = duration


def _principal(request: Request) -> tuple[Principal | None, str]:
    """The caller from the bearer header or the cookie, or why there is none."""
    scheme, token = get_authorization_scheme_param(request.headers.get("Authorization"))
    if scheme.lower() != "bearer":
        token = request.cookies.get(COOKIE, "")
    if not token:
        return None, "Paste a token to see the dashboard."
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        principal = verifier.verify(token)
    except AuthenticationError as error:
        return None, f"That token was refused: {error.message}"
    if not principal.has_any(*READERS):
        return None, "That token grants no analyst or manager role."
    return principal, ""


_PAGE = {"text/html": {"schema": {"type": "string"}}}
JWT_SHAPE = r"^[ \t\r\n]*[A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]*[ \t\r\n]*$"
"""An access token as ``make token`` prints it: a JWT (three base64url parts)."""


@router.get(
    "/dashboard",
    response_class=HTMLResponse,
    responses={401: {"description": "No valid token: the form to paste one.", "content": _PAGE}},
)
def dashboard(request: Request, app: Analytics, period: ReportPeriod) -> Response:
    """The KPIs of the caller's tenant for the period in the query (default: 30 days)."""
    principal, problem = _principal(request)
    if principal is None:
        page = templates.get_template("login.html").render(problem=problem)
        return HTMLResponse(page, status_code=status.HTTP_401_UNAUTHORIZED)
    report = app.report(principal.tenant_id, period)
    page = templates.get_template("dashboard.html").render(report=report, query=request.url.query)
    return HTMLResponse(page)


@router.post(
    "/dashboard/session",
    status_code=status.HTTP_303_SEE_OTHER,
    response_class=RedirectResponse,
    responses={
        200: {
            "description": "The dashboard, for a client that follows the redirect.",
            "content": _PAGE,
        },
        401: {"description": "The token was refused: the form again.", "content": _PAGE},
    },
)
def start_session(
    token: Annotated[str, Form(min_length=1, max_length=8192, pattern=JWT_SHAPE)],
) -> Response:
    """Keep the pasted token in an HttpOnly cookie for the dashboard, then show it."""
    response = RedirectResponse("/dashboard", status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        COOKIE, token.strip(), httponly=True, samesite="strict", path="/dashboard", max_age=43200
    )
    return response
