"""Signing in to the console and out again.

Staff sign in with an access token of their tenant (from the identity provider, or
``make token`` locally: the owner's token printed by ``make run`` seeds the first
session). The token is checked like every service checks it; it must grant a staff
role. Every console form carries the session's CSRF secret, and a POST without it, or
from another origin, is refused.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from slotline.events.auth import AuthenticationError, AuthSettings, Role, TokenVerifier
from slotline.web.http.deps import Context, Web
from slotline.web.rendering import render
from slotline.web.session import COOKIE, Session, Sessions

router = APIRouter(prefix="/console", tags=["console"])

_verifier = TokenVerifier.from_settings(AuthSettings())


class SignInRequired(HTTPException):
    def __init__(self, next_path: str) -> None:
        super().__init__(303, "sign in", headers={"Location": _sign_in_url(next_path)})


def _sign_in_url(next_path: str) -> str:
    return f"/console/sign-in?next={quote(next_path, safe='/')}"


def _sessions(request: Request) -> Sessions:
    web = request.app.state.web
    return Sessions(
        web.settings.web_session_secret.get_secret_value(), web.settings.web_session_hours * 3600
    )


def current_session(request: Request) -> Session:
    """The signed-in staff member (else a redirect to sign in)."""
    found = _sessions(request).read(request.cookies.get(COOKIE))
    if found is None:
        raise SignInRequired(request.url.path)
    token, csrf = found
    try:
        principal = _verifier.verify(token)
    except AuthenticationError:
        raise SignInRequired(request.url.path) from None
    if not principal.has_any(Role.STAFF):
        raise SignInRequired(request.url.path)
    request.state.page = {
        "staff": principal,
        "csrf": csrf,
        "dashboard": request.app.state.web.settings.web_analytics_url + "/dashboard",
    }
    return Session(token, csrf, principal)


StaffSession = Annotated[Session, Depends(current_session)]


def _from_this_site(request: Request) -> None:
    """A browser names the page a form came from: one from another site is refused."""
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.url.netloc:
        raise HTTPException(403, "this form was sent from another site")


async def checked_form(request: Request, session: StaffSession) -> dict[str, str]:
    """The posted form, after the CSRF checks (same origin, the session's secret)."""
    _from_this_site(request)
    form = {k: str(v) for k, v in (await request.form()).items()}
    if not session.csrf_matches(form.get("csrf")):
        raise HTTPException(403, "this form has expired; reload the page and try again")
    return form


CheckedForm = Annotated[dict[str, str], Depends(checked_form)]


@router.get("/sign-in")
async def sign_in_page(request: Request, next: str = "/console/today") -> Response:
    return render(request, "console/sign_in.html", next=_local(next), problem=None)


@router.post("/sign-in")
async def sign_in(request: Request, web: Web) -> Response:
    """Signs in with a staff token. Another site may not post it (it would sign the
    desk's browser in as someone else: a login CSRF)."""
    _from_this_site(request)
    form = {k: str(v) for k, v in (await request.form()).items()}
    token = form.get("token", "").strip()
    next_path = _local(form.get("next", "/console/today"))
    problem = None
    try:
        principal = _verifier.verify(token)
        if not principal.has_any(Role.STAFF):
            problem = "not_staff"
    except AuthenticationError:
        problem = "bad_token"
    if problem:
        return render(request, "console/sign_in.html", 401, next=next_path, problem=problem)
    # the second factor, asked of booking (which keeps it); booking down: no sign-in
    status = await web.services.booking.mfa_status(token)
    chosen = form.get("second_factor") == "1"  # set one up though the tenant does not ask
    if not (status["enrolled"] or status["required"] or chosen):
        return _signed_in(request, web, token, next_path)
    step = "code" if status["enrolled"] else "enrol"
    by_choice = "&by_choice=1" if step == "enrol" and not status["required"] else ""
    response = RedirectResponse(
        f"/console/sign-in/{step}?next={quote(next_path, safe='/')}{by_choice}", 303
    )
    response.set_cookie(
        PENDING,
        _pending(request).dumps(token),
        max_age=PENDING_SECONDS,
        httponly=True,
        samesite="lax",
        secure=web.settings.web_secure_cookies,
        path="/console/sign-in",
    )
    return response


def _signed_in(request: Request, web: Context, token: str, next_path: str) -> Response:
    response = RedirectResponse(next_path, 303)
    response.set_cookie(
        COOKIE,
        _sessions(request).cookie_for(token),
        max_age=web.settings.web_session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=web.settings.web_secure_cookies,
        path="/console",
    )
    response.delete_cookie(PENDING, path="/console/sign-in")
    return response


# --- the second factor ---------------------------------------------------------------

PENDING = "slotline_console_pending"
PENDING_SECONDS = 300
"""A checked token waits this long for its second factor (in a signed cookie)."""


def _pending(request: Request) -> URLSafeTimedSerializer:
    secret = request.app.state.web.settings.web_session_secret.get_secret_value()
    return URLSafeTimedSerializer(secret, salt="slotline-console-second-factor")


def _waiting_token(request: Request, next_path: str) -> str:
    """The token that passed the first step, still young; else back to the first step."""
    try:
        token = _pending(request).loads(request.cookies.get(PENDING, ""), max_age=PENDING_SECONDS)
    except BadSignature:
        raise SignInRequired(next_path) from None
    if not isinstance(token, str):
        raise SignInRequired(next_path)
    return token


@router.get("/sign-in/code")
async def code_page(request: Request, next: str = "/console/today") -> Response:
    next_path = _local(next)
    _waiting_token(request, next_path)
    return render(request, "console/sign_in_code.html", next=next_path, problem=None)


@router.post("/sign-in/code")
async def code(request: Request, web: Web) -> Response:
    """The code from the staff member's app, or one of their recovery codes."""
    _, next_path, token, answer = await _sent_code(request, web, confirming=False)
    if answer.status_code == 204:
        return _signed_in(request, web, token, next_path)
    if answer.status_code == 409:  # reset by an owner meanwhile: start again
        raise SignInRequired(next_path)
    problem, status = _refusal(answer)
    return render(request, "console/sign_in_code.html", status, next=next_path, problem=problem)


@router.get("/sign-in/enrol")
async def enrol_page(
    request: Request, web: Web, next: str = "/console/today", by_choice: bool = False
) -> Response:
    """The tenant requires a second factor (or the staff member asked for one) and this
    staff member has none: a new secret (typed in, or from the QR code's URI) and
    recovery codes, confirmed by a first code. Loading the page again replaces an
    unconfirmed secret."""
    next_path = _local(next)
    token = _waiting_token(request, next_path)
    answer = await web.services.booking.mfa_enrol(token)
    if answer.status_code == 409:
        return RedirectResponse(f"/console/sign-in/code?next={quote(next_path, safe='/')}", 303)
    if answer.status_code != 201:
        raise SignInRequired(next_path)
    return render(
        request,
        "console/sign_in_enrol.html",
        next=next_path,
        enrolment=answer.json(),
        problem=None,
        by_choice=by_choice,
    )


@router.post("/sign-in/enrol")
async def confirm_enrolment(request: Request, web: Web) -> Response:
    form, next_path, token, answer = await _sent_code(request, web, confirming=True)
    if answer.status_code == 204:
        return _signed_in(request, web, token, next_path)
    problem, status = _refusal(answer)
    if status == 403:  # the same page again (the secret the app has now), with the problem
        shown = {
            "secret": form.get("secret", ""),
            "uri": form.get("uri", ""),
            "recovery_codes": form.get("recovery_codes", "").split(),
        }
        return render(
            request,
            "console/sign_in_enrol.html",
            422,
            next=next_path,
            enrolment=shown,
            problem=problem,
            by_choice=form.get("by_choice") == "1",
        )
    return render(request, "console/sign_in_code.html", status, next=next_path, problem=problem)


async def _sent_code(
    request: Request, web: Context, *, confirming: bool
) -> tuple[dict[str, str], str, str, Any]:
    """A posted code, passed on to booking with the waiting token: (form, where next,
    token, booking's answer)."""
    _from_this_site(request)
    form = {k: str(v) for k, v in (await request.form()).items()}
    next_path = _local(form.get("next", "/console/today"))
    token = _waiting_token(request, next_path)
    answer = await web.services.booking.mfa_code(
        token, _code(form.get("code", "")), confirming=confirming
    )
    return form, next_path, token, answer


def _code(typed: str) -> str:
    """As people type codes: spaces between the digit groups."""
    return typed.strip().replace(" ", "")[:16]


def _refusal(answer: Any) -> tuple[str, int]:
    if answer.status_code == 429:
        return "locked", 429
    return "wrong_code", 403


@router.post("/sign-out")
async def sign_out(form: CheckedForm) -> Response:
    response = RedirectResponse("/console/sign-in?signed_out=1", 303)
    response.delete_cookie(COOKIE, path="/console")
    return response


def _local(path: str) -> str:
    """Only paths inside the console are followed after signing in (no open redirect)."""
    return path if path.startswith("/console/") and "//" not in path else "/console/today"
