"""Slotline bearer tokens: their settings, minting them, and checking them.

Tokens are JWTs carrying ``sub``, ``tenant``, ``roles``, ``iss`` and ``aud`` (both
``"slotline"`` by default), ``iat`` and ``exp``. Local and dev deployments sign them
with a shared HS256 secret (``slotline token`` mints one). A deployment whose tokens
come from an identity provider configures the provider's RS256 public key instead
(``SLOTLINE_AUTH_PUBLIC_KEY_PEM``). A verifier accepts exactly one algorithm, so
with a public key configured HS256 tokens are refused and a leaked or default dev
secret cannot mint tokens for that deployment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal, Self, TypeAlias

import jwt
from jwt.exceptions import InvalidSubjectError
from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from slotline.events.roles import Principal, Role, parse_roles

Algorithm: TypeAlias = Literal["HS256", "RS256"]

# Published on purpose: the local/dev default, never to be used in production (AuthSettings).
DEV_SECRET: Final = "slotline-local-dev-secret-change-me"  # noqa: S105
# RFC 7518 §3.2: an HS256 key must be at least as long as the hash output.
_MIN_HMAC_SECRET_BYTES: Final = 32
_REQUIRED_CLAIMS: Final = ("sub", "tenant", "roles", "iss", "aud", "iat", "exp")


class AuthenticationError(Exception):
    """A token was missing or could not be trusted; ``message`` says exactly why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AuthSettings(BaseSettings):
    """Authentication settings, environment prefix ``SLOTLINE_AUTH_``.

    ``secret`` defaults to a published development value: production must set
    ``SLOTLINE_AUTH_SECRET`` to a random value of 32+ bytes, or configure
    ``SLOTLINE_AUTH_PUBLIC_KEY_PEM`` (then ``algorithm`` defaults to RS256).
    """

    model_config = SettingsConfigDict(env_prefix="SLOTLINE_AUTH_")

    secret: SecretStr = SecretStr(DEV_SECRET)
    issuer: str = "slotline"
    audience: str = "slotline"
    public_key_pem: str | None = None
    algorithm: Algorithm | None = None

    @model_validator(mode="after")
    def _check_key_matches_algorithm(self) -> Self:
        if self.algorithm == "RS256" and not self.public_key_pem:
            raise ValueError("algorithm RS256 needs SLOTLINE_AUTH_PUBLIC_KEY_PEM")
        if self.algorithm == "HS256" and self.public_key_pem:
            raise ValueError("SLOTLINE_AUTH_PUBLIC_KEY_PEM is set but algorithm is HS256")
        return self

    @property
    def effective_algorithm(self) -> Algorithm:
        if self.algorithm is not None:
            return self.algorithm
        return "RS256" if self.public_key_pem else "HS256"

    @property
    def uses_dev_secret(self) -> bool:
        """True when HS256 tokens are checked with the published dev secret: warn loudly."""
        return self.effective_algorithm == "HS256" and self.secret.get_secret_value() == DEV_SECRET


def _check_hmac_secret(secret: str) -> None:
    if len(secret.encode()) < _MIN_HMAC_SECRET_BYTES:
        raise ValueError(f"the HS256 secret must be at least {_MIN_HMAC_SECRET_BYTES} bytes")


def _check_public_key(pem: str) -> None:
    """Fail at startup, not on the first request, if the RS256 key is unusable."""
    if "PRIVATE KEY" in pem:
        raise ValueError("configure the RS256 public key, never the private key")
    try:
        rsa = jwt.get_algorithm_by_name("RS256")
    except NotImplementedError as exc:
        raise RuntimeError(
            "RS256 verification needs the 'cryptography' package (pyjwt[crypto])"
        ) from exc
    try:
        rsa.prepare_key(pem)
    except (jwt.InvalidKeyError, ValueError) as exc:
        raise ValueError("public_key_pem is not a PEM-encoded RSA public key") from exc


def _utcnow() -> datetime:
    return datetime.now(UTC)


class TokenIssuer:
    """Mints HS256 tokens for local development, tests and shared-secret deployments.

    RS256 deployments get their tokens from the identity provider, never from here.
    """

    def __init__(
        self,
        secret: str,
        issuer: str = "slotline",
        audience: str = "slotline",
        *,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        _check_hmac_secret(secret)
        self._secret = secret
        self.issuer = issuer
        self.audience = audience
        self._clock = clock  # must return timezone-aware datetimes

    def mint(
        self, subject: str, tenant_id: str, roles: Iterable[Role | str], ttl: timedelta
    ) -> str:
        granted = parse_roles(roles)
        if not subject or not tenant_id:
            raise ValueError("subject and tenant_id must not be empty")
        if not granted:
            raise ValueError("a token needs at least one role")
        if ttl <= timedelta(0):
            raise ValueError("ttl must be positive")
        now = self._clock()
        claims = {
            "sub": subject,
            "tenant": tenant_id,
            "roles": sorted(granted),
            "iss": self.issuer,
            "aud": self.audience,
            "iat": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")


class TokenVerifier:
    """Checks a token's signature and claims and turns it into a ``Principal``.

    ``key`` is the HS256 shared secret or, with ``algorithm="RS256"``, a PEM public key.
    ``leeway`` absorbs clock skew between the issuer and this service.
    """

    def __init__(
        self,
        key: str,
        *,
        algorithm: Algorithm = "HS256",
        issuer: str = "slotline",
        audience: str = "slotline",
        leeway: timedelta = timedelta(seconds=30),
    ) -> None:
        if algorithm == "HS256":
            _check_hmac_secret(key)
        else:
            _check_public_key(key)
        self._key = key
        self.algorithm: Algorithm = algorithm
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> TokenVerifier:
        algorithm = settings.effective_algorithm
        key = (
            settings.public_key_pem or ""
            if algorithm == "RS256"
            else settings.secret.get_secret_value()
        )
        return cls(key, algorithm=algorithm, issuer=settings.issuer, audience=settings.audience)

    def verify(self, token: str | None) -> Principal:
        if not token:
            raise AuthenticationError("missing bearer token")
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": list(_REQUIRED_CLAIMS)},
            )
        except jwt.InvalidTokenError as exc:
            raise AuthenticationError(self._describe(exc)) from exc
        return _principal_from_claims(claims)

    def _describe(self, exc: jwt.InvalidTokenError) -> str:
        match exc:
            case jwt.InvalidSignatureError():
                return "token signature is invalid"
            case jwt.DecodeError():
                return "malformed token: not a decodable JWT"
            case jwt.ExpiredSignatureError():
                return "token has expired"
            case jwt.InvalidAudienceError():  # what is expected is not told: a prober
                return "token audience is not accepted"  # learns nothing to forge with
            case jwt.InvalidIssuerError():
                return "token issuer is not accepted"
            case jwt.MissingRequiredClaimError(claim=claim):
                return f"token is missing the {claim!r} claim"
            case jwt.InvalidAlgorithmError():
                return "token algorithm is not accepted"
            case jwt.ImmatureSignatureError():
                return "token is not valid yet (issued in the future)"
            case jwt.InvalidIssuedAtError():
                return "token 'iat' claim is not a timestamp"
            case InvalidSubjectError():
                return "token 'sub' claim must be a string"
            case _:
                return f"invalid token: {exc}"


def _principal_from_claims(claims: dict[str, Any]) -> Principal:
    subject, tenant, names = claims["sub"], claims["tenant"], claims["roles"]
    if not isinstance(subject, str) or not subject:
        raise AuthenticationError("token 'sub' claim must be a non-empty string")
    if not isinstance(tenant, str) or not tenant:
        raise AuthenticationError("token 'tenant' claim must be a non-empty string")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise AuthenticationError("token 'roles' claim must be a non-empty list of role names")
    try:
        roles = parse_roles(names)
    except ValueError as exc:
        raise AuthenticationError(f"token carries {exc}") from exc
    return Principal(subject=subject, tenant_id=tenant, roles=roles)
