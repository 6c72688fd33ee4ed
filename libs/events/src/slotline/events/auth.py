"""Bearer-token authentication shared by every Slotline HTTP API.

Every service authorises the same people and machines, so the token format, the
role model and the FastAPI dependencies live here once instead of in five copies:
:mod:`slotline.events.tokens` (JWTs: settings, minting, checking),
:mod:`slotline.events.roles` (the role ladder and the ``Principal``) and, here, the
dependencies that guard routes. Import them all from here.

Tenancy. Every token belongs to exactly one tenant; ``ensure_tenant`` and
``tenant_principal`` keep it there.

Wiring: store ``TokenVerifier.from_settings(AuthSettings())`` at
``app.state.token_verifier`` and guard routes with
``Depends(require_roles(Role.MANAGER))`` or ``Depends(tenant_principal(Role.STAFF))``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any, TypeAlias

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from slotline.events.logs import get_logger
from slotline.events.roles import Principal, Role, expand_roles, parse_roles
from slotline.events.tokens import (
    DEV_SECRET,
    AuthenticationError,
    AuthSettings,
    TokenIssuer,
    TokenVerifier,
)

log = get_logger(__name__)

__all__ = [
    "DEV_SECRET",
    "AuthSettings",
    "AuthenticationError",
    "Principal",
    "Role",
    "TokenIssuer",
    "TokenVerifier",
    "authenticate",
    "ensure_tenant",
    "expand_roles",
    "parse_roles",
    "require_roles",
    "tenant_principal",
]

PrincipalDependency: TypeAlias = Callable[..., Coroutine[Any, Any, Principal]]


# --- FastAPI integration -------------------------------------------------------------

_bearer = HTTPBearer(auto_error=False, bearerFormat="JWT", description="Slotline access token")


def _unauthorized(message: str, *, invalid_token: bool) -> HTTPException:
    # RFC 6750 §3: the challenge names the scheme; error="invalid_token" when a token
    # was sent but rejected. The precise reason goes in the body, never in the header.
    challenge = 'Bearer realm="slotline"' + (', error="invalid_token"' if invalid_token else "")
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=message,
        headers={"WWW-Authenticate": challenge},
    )


def _token_verifier(request: Request) -> TokenVerifier:
    verifier = getattr(request.app.state, "token_verifier", None)
    if not isinstance(verifier, TokenVerifier):
        raise RuntimeError("app.state.token_verifier is not a TokenVerifier: set it at startup")
    return verifier


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Dependency: the verified caller, whatever their roles; 401 otherwise."""
    if credentials is None:
        if request.headers.get("Authorization"):
            message = "Authorization header must be of the form 'Bearer <token>'"
        else:
            message = "missing bearer token: send 'Authorization: Bearer <token>'"
        raise _unauthorized(message, invalid_token=False)
    try:
        return _token_verifier(request).verify(credentials.credentials)
    except AuthenticationError as exc:
        raise _unauthorized(exc.message, invalid_token=True) from exc


def _ensure_roles(principal: Principal, required: tuple[Role, ...]) -> None:
    if required and not principal.has_any(*required):
        log.info(  # who needed what is for the operator's log, not the caller
            "role refused",
            subject=principal.subject,
            required=list(required),
            granted=sorted(principal.roles),
        )
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail="this token's roles do not allow this request",
        )


def ensure_tenant(principal: Principal, tenant_id: str) -> None:
    """Refuse (403) a token used outside its own tenant."""
    if principal.tenant_id != tenant_id:
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail=f"token for tenant {principal.tenant_id!r} cannot access tenant {tenant_id!r}",
        )


def require_roles(*roles: Role) -> PrincipalDependency:
    """Dependency factory: the caller must hold one of ``roles`` (no roles: any caller)."""
    required = tuple(dict.fromkeys(roles))

    async def dependency(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        _ensure_roles(principal, required)
        return principal

    return dependency


def tenant_principal(*roles: Role) -> PrincipalDependency:
    """Like ``require_roles`` for routes with a ``{tenant_id}`` path parameter.

    The token's tenant must equal the path's tenant (403 otherwise).
    """
    required = tuple(dict.fromkeys(roles))

    async def dependency(
        tenant_id: Annotated[str, Path(description="the tenant the route acts on")],
        principal: Annotated[Principal, Depends(authenticate)],
    ) -> Principal:
        ensure_tenant(principal, tenant_id)
        _ensure_roles(principal, required)
        return principal

    return dependency
