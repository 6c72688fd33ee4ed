"""Reading a Twilio webhook: the URL it was sent to, its signature, its parameters."""

from __future__ import annotations

from typing import TypeVar

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from slotline.call_intake.settings import CallIntakeSettings
from slotline.events.twilio_signature import signature_is_valid

M = TypeVar("M", bound=BaseModel)


def called_url(request: Request, settings: CallIntakeSettings) -> str:
    """The exact URL the provider requested (what it signed), query string included."""
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    path = raw_path.decode("latin-1")
    query = request.scope.get("query_string", b"").decode("latin-1")
    suffix = f"{path}?{query}" if query else path
    if settings.public_base_url:
        return settings.public_base_url.rstrip("/") + suffix
    scheme = request.url.scheme
    host = request.headers.get("host") or request.url.netloc
    if settings.trust_forwarded_headers:
        scheme = _first(request.headers.get("x-forwarded-proto")) or scheme
        host = _first(request.headers.get("x-forwarded-host")) or host
    return f"{scheme}://{host}{suffix}"


def _first(value: str | None) -> str | None:
    return value.split(",")[0].strip() or None if value else None


async def signed_params(request: Request, settings: CallIntakeSettings) -> dict[str, str]:
    """The POST parameters of a correctly signed request; 403 (and nothing done) otherwise."""
    form = await request.form()
    params = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    valid = signature_is_valid(
        settings.twilio_auth_token.get_secret_value(),
        called_url(request, settings),
        params,
        request.headers.get("x-twilio-signature"),
    )
    if not valid:
        raise HTTPException(403, "missing or invalid X-Twilio-Signature")
    return dict(params)


def parsed(model: type[M], params: dict[str, str]) -> M:
    """The webhook's parameters as ``model``; a 422 naming each bad field otherwise."""
    try:
        return model.model_validate(params)
    except ValidationError as error:
        raise RequestValidationError(error.errors()) from None
