"""The web service acts as each tenant's booking channel: a ``channel`` token per
tenant (it may submit booking requests and read their outcomes, nothing else).

Tokens are minted here with the deployment's HS256 secret, short-lived and reused
until near expiry; a deployment on an identity provider gives one per tenant instead.
"""

from __future__ import annotations

import time
from datetime import timedelta

from slotline.events.auth import AuthSettings, Role, TokenIssuer

_LIFETIME = timedelta(minutes=30)
_RENEW_BEFORE_SECONDS = 300


class ChannelCredentials:
    def __init__(self, configured: dict[str, str], issuer: TokenIssuer | None) -> None:
        self.configured = configured
        self.issuer = issuer
        self._minted: dict[str, tuple[str, float]] = {}

    @classmethod
    def from_settings(cls, configured: dict[str, str]) -> ChannelCredentials:
        auth = AuthSettings()
        issuer = None
        if auth.effective_algorithm == "HS256":
            issuer = TokenIssuer(auth.secret.get_secret_value(), auth.issuer, auth.audience)
        return cls(configured, issuer)

    def for_tenant(self, tenant_id: str) -> str:
        if tenant_id in self.configured:
            return self.configured[tenant_id]
        if self.issuer is None:
            raise LookupError(f"no channel token configured for tenant {tenant_id!r}")
        token, expires = self._minted.get(tenant_id, ("", 0.0))
        if time.time() < expires - _RENEW_BEFORE_SECONDS:
            return token
        token = self.issuer.mint("web-booking-page", tenant_id, [Role.CHANNEL], _LIFETIME)
        self._minted[tenant_id] = (token, time.time() + _LIFETIME.total_seconds())
        return token
