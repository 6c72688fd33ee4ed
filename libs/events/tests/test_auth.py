"""Tokens, roles and tenant isolation, down to real ASGI HTTP handling."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import httpx
import jwt
import pytest
import typer
from fastapi import Depends, FastAPI
from pydantic import ValidationError
from typer.testing import CliRunner

from slotline.events.auth import (
    DEV_SECRET,
    AuthenticationError,
    AuthSettings,
    Principal,
    Role,
    TokenIssuer,
    TokenVerifier,
    require_roles,
    tenant_principal,
)
from slotline.events.cli_token import token_command

pytestmark = pytest.mark.unit

SECRET = "test-secret-that-is-long-enough-for-hs256"
HOUR = timedelta(hours=1)


@pytest.fixture(autouse=True)
def _clean_auth_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SECRET", "ISSUER", "AUDIENCE", "PUBLIC_KEY_PEM", "ALGORITHM"):
        monkeypatch.delenv(f"SLOTLINE_AUTH_{name}", raising=False)


def mint(*roles: Role, tenant: str = "acme", **issuer_kwargs: Any) -> str:
    issuer = TokenIssuer(issuer_kwargs.pop("secret", SECRET), **issuer_kwargs)
    return issuer.mint("alice", tenant, roles, HOUR)


def raw_token(**overrides: Any) -> str:
    now = int(datetime.now(UTC).timestamp())
    claims = {
        "sub": "alice",
        "tenant": "acme",
        "roles": ["staff"],
        "iss": "slotline",
        "aud": "slotline",
        "iat": now,
        "exp": now + 3600,
    } | overrides
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, SECRET)


def reason(token: str | None) -> str:
    with pytest.raises(AuthenticationError) as caught:
        TokenVerifier(SECRET).verify(token)
    return caught.value.message


# --- tokens ------------------------------------------------------------------------


def test_mint_verify_round_trip() -> None:
    principal = TokenVerifier(SECRET).verify(mint(Role.MANAGER, Role.ANALYST))

    assert principal == Principal("alice", "acme", frozenset({Role.MANAGER, Role.ANALYST}))
    claims = jwt.decode(mint(Role.STAFF), SECRET, algorithms=["HS256"], audience="slotline")
    assert set(claims) == {"sub", "tenant", "roles", "iss", "aud", "iat", "exp"}


def test_role_ladder() -> None:
    owner = Principal("o", "acme", frozenset({Role.OWNER}))
    front_desk = Principal("f", "acme", frozenset({Role.FRONT_DESK}))
    channel = Principal("c", "acme", frozenset({Role.CHANNEL}))

    assert owner.has_any(Role.MANAGER)
    assert owner.has_any(Role.STAFF)
    assert not owner.has_any(Role.ANALYST, Role.CHANNEL)
    assert front_desk.has_any(Role.STAFF)
    assert not front_desk.has_any(Role.MANAGER)
    assert channel.has_any(Role.CHANNEL)
    assert not channel.has_any(Role.STAFF)


def test_expired_token() -> None:
    two_hours_ago = datetime.now(UTC) - 2 * HOUR
    token = mint(Role.OWNER, clock=lambda: two_hours_ago)

    assert reason(token) == "token has expired"


def test_bad_signature() -> None:
    assert reason(mint(Role.OWNER, secret="another-secret-also-32-bytes-long!!")) == (
        "token signature is invalid"
    )


def test_wrong_audience_and_issuer() -> None:
    assert reason(mint(Role.OWNER, audience="elsewhere")) == "token audience is not accepted"
    assert reason(mint(Role.OWNER, issuer="mallory")) == "token issuer is not accepted"


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (None, "missing bearer token"),
        ("", "missing bearer token"),
        ("not-a-jwt", "malformed token: not a decodable JWT"),
        (raw_token(tenant=None), "token is missing the 'tenant' claim"),
        (raw_token(tenant=""), "token 'tenant' claim must be a non-empty string"),
        (raw_token(roles=["staff", "janitor"]), "token carries unknown role(s) 'janitor'"),
        (raw_token(roles=[]), "token 'roles' claim must be a non-empty list of role names"),
        (
            jwt.encode({"sub": "x"}, SECRET + SECRET, algorithm="HS512"),
            "token algorithm is not accepted",
        ),
    ],
)
def test_precise_rejection_reasons(token: str | None, expected: str) -> None:
    assert reason(token).startswith(expected)


def test_configuration_is_checked_up_front() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        TokenIssuer("short")
    with pytest.raises(ValueError, match="public key, never the private key"):
        TokenVerifier("-----BEGIN PRIVATE KEY-----\n...", algorithm="RS256")
    with pytest.raises(ValidationError, match="RS256 needs"):
        AuthSettings(algorithm="RS256")
    with pytest.raises(ValueError, match="unknown role"):
        TokenIssuer(SECRET).mint("a", "acme", ["janitor"], HOUR)


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert AuthSettings().uses_dev_secret
    monkeypatch.setenv("SLOTLINE_AUTH_SECRET", SECRET)
    settings = AuthSettings()

    assert not settings.uses_dev_secret
    assert settings.effective_algorithm == "HS256"
    assert TokenVerifier.from_settings(settings).verify(mint(Role.STAFF)).tenant_id == "acme"


def test_rs256_public_key() -> None:
    if not jwt.algorithms.has_crypto:
        # Without `cryptography` an RS256 deployment must fail at startup, not per request.
        with pytest.raises(RuntimeError, match="cryptography"):
            TokenVerifier("-----BEGIN PUBLIC KEY-----\n...", algorithm="RS256")
        return
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    verifier = TokenVerifier.from_settings(AuthSettings(public_key_pem=public_pem))
    claims = jwt.decode(raw_token(), SECRET, algorithms=["HS256"], audience="slotline")

    assert verifier.verify(jwt.encode(claims, private_key, algorithm="RS256")).subject == "alice"
    with pytest.raises(AuthenticationError, match="algorithm is not accepted"):
        verifier.verify(raw_token())  # an HS256 token, even a validly signed one


# --- HTTP --------------------------------------------------------------------------


def make_app() -> FastAPI:
    app = FastAPI()
    app.state.token_verifier = TokenVerifier(SECRET)

    @app.get("/reports")
    async def reports(
        principal: Annotated[Principal, Depends(require_roles(Role.MANAGER))],
    ) -> dict[str, str]:
        return {"subject": principal.subject}

    @app.get("/tenants/{tenant_id}/bookings")
    async def bookings(
        tenant_id: str,
        principal: Annotated[Principal, Depends(tenant_principal(Role.FRONT_DESK))],
    ) -> dict[str, str]:
        return {"tenant": tenant_id, "subject": principal.subject}

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://slotline.test") as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_no_token_is_401_with_challenge(client: httpx.AsyncClient) -> None:
    response = await client.get("/reports")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["detail"].startswith("missing bearer token")


async def test_wrong_scheme_and_invalid_token_are_401(client: httpx.AsyncClient) -> None:
    basic = await client.get("/reports", headers={"Authorization": "Basic YWxpY2U6cHc="})
    expired = mint(Role.OWNER, clock=lambda: datetime.now(UTC) - 2 * HOUR)
    rejected = await client.get("/reports", headers=bearer(expired))

    assert basic.status_code == 401
    assert "Bearer <token>" in basic.json()["detail"]
    assert rejected.status_code == 401
    assert rejected.json()["detail"] == "token has expired"
    assert 'error="invalid_token"' in rejected.headers["WWW-Authenticate"]


async def test_missing_role_is_403(client: httpx.AsyncClient) -> None:
    response = await client.get("/reports", headers=bearer(mint(Role.STAFF)))

    assert response.status_code == 403
    assert response.json()["detail"] == "this token's roles do not allow this request"
    assert "manager" not in response.text, "the roles a route needs are not told"


async def test_owner_passes_manager_route(client: httpx.AsyncClient) -> None:
    response = await client.get("/reports", headers=bearer(mint(Role.OWNER)))

    assert response.status_code == 200
    assert response.json() == {"subject": "alice"}


async def test_tenant_isolation(client: httpx.AsyncClient) -> None:
    token = mint(Role.FRONT_DESK, tenant="acme")
    own = await client.get("/tenants/acme/bookings", headers=bearer(token))
    other = await client.get("/tenants/globex/bookings", headers=bearer(token))

    assert own.status_code == 200
    assert own.json() == {"tenant": "acme", "subject": "alice"}
    assert other.status_code == 403
    assert other.json()["detail"] == "token for tenant 'acme' cannot access tenant 'globex'"


async def test_unconfigured_verifier_fails_loudly() -> None:
    app = make_app()
    del app.state.token_verifier
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://slotline.test") as c:
        with pytest.raises(RuntimeError, match="token_verifier"):
            await c.get("/reports", headers=bearer(mint(Role.OWNER)))


# --- CLI ---------------------------------------------------------------------------


def cli() -> typer.Typer:
    app = typer.Typer()
    app.command("token")(token_command)
    return app


def test_cli_prints_a_verifiable_token() -> None:
    result = CliRunner().invoke(
        cli(),
        ["--tenant", "acme", "--roles", "manager, analyst", "--ttl-hours", "1"],
        env={"SLOTLINE_AUTH_SECRET": SECRET},
    )

    assert result.exit_code == 0, result.output
    principal = TokenVerifier(SECRET).verify(result.stdout.strip())
    assert principal == Principal("local-dev", "acme", frozenset({Role.MANAGER, Role.ANALYST}))


def test_cli_defaults_to_dev_secret_and_rejects_unknown_roles() -> None:
    ok = CliRunner().invoke(cli(), [])
    bad = CliRunner().invoke(cli(), ["--roles", "owner,janitor"])

    assert TokenVerifier(DEV_SECRET).verify(ok.stdout.strip()).roles == {Role.OWNER}
    assert bad.exit_code == 2
    assert "janitor" in bad.output
