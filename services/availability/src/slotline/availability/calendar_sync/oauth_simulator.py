"""A provider's OAuth 2.0 token endpoint for the calendar simulators (tests): the
refresh-token grant (RFC 6749 §6) as Google and the Microsoft identity platform answer
it, and the access tokens it issued, which a test can expire.

``POST`` a form with ``grant_type=refresh_token``, ``refresh_token``, ``client_id`` and
``client_secret``: ``200`` with ``access_token``, ``token_type``, ``expires_in`` (and a
new ``refresh_token`` where the provider rotates them; the old one stays valid, as
Microsoft's do), or an RFC 6749 §5.2 error — ``400 invalid_grant`` (a refresh token it
did not issue, or revoked), ``401 invalid_client`` (wrong id or secret),
``400 unsupported_grant_type``, ``400 invalid_request``.
"""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs

import httpx


class SimulatedTokenEndpoint:
    def __init__(
        self,
        access_token: str,
        refresh_token: str | None,
        client_id: str,
        client_secret: str,
        *,
        rotates_refresh_tokens: bool,
        lifetime_seconds: int = 3599,
        token_prefix: str = "",
    ) -> None:
        self.access_tokens = {access_token}
        self.refresh_tokens = {refresh_token} if refresh_token else set()
        self.client_id = client_id
        self.client_secret = client_secret
        self.rotates = rotates_refresh_tokens
        self.lifetime_seconds = lifetime_seconds
        self.prefix = token_prefix
        self.renewals = 0  # access tokens issued by refresh

    def signed_in(self, request: httpx.Request) -> bool:
        """The request carries an access token this endpoint issued and not expired."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return scheme == "Bearer" and token in self.access_tokens

    def expire_access_tokens(self) -> None:
        """Every access token issued so far is refused from now on (they lasted an hour)."""
        self.access_tokens.clear()

    def revoke_refresh_tokens(self) -> None:
        """The owner withdrew the consent: no refresh token works any more."""
        self.refresh_tokens.clear()

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.method != "POST":
            return _error(405, "invalid_request", "The token endpoint takes POST.")
        if not request.headers.get("Content-Type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            return _error(400, "invalid_request", "The request body must be a form.")
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if form.get("grant_type") != "refresh_token":
            return _error(400, "unsupported_grant_type", "Only refresh_token is simulated.")
        if (form.get("client_id"), form.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            return _error(401, "invalid_client", "The OAuth client was not found.")
        if form.get("refresh_token") not in self.refresh_tokens:
            return _error(400, "invalid_grant", "Token has been expired or revoked.")
        access = f"{self.prefix}{uuid.uuid4().hex}"
        self.access_tokens.add(access)
        self.renewals += 1
        body: dict[str, object] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.lifetime_seconds,
        }
        if form.get("scope"):
            body["scope"] = form["scope"]
        if self.rotates:
            rotated = f"refresh-{uuid.uuid4().hex}"
            self.refresh_tokens.add(rotated)
            body["refresh_token"] = rotated
        return httpx.Response(200, json=body)


def _error(status: int, code: str, description: str) -> httpx.Response:
    return httpx.Response(status, json={"error": code, "error_description": description})
