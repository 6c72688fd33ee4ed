"""OAuth 2.0 for the Google and Microsoft calendar links: the grant a link holds and the
one request that renews its access token.

A link's grant is a refresh token (from the calendar owner's consent: ``offline_access``
for Microsoft, ``access_type=offline`` for Google), the current access token and when
it expires. It is stored like every calendar credential — sealed, bound to the resource
(:mod:`.credentials`) — as the JSON :meth:`OAuthGrant.sealable` writes. When the access
token has expired (or is about to), or a request answers ``401``, the adapter renews it
at the provider's token endpoint (RFC 6749 §6: ``grant_type=refresh_token``, the
operator's OAuth client authenticating with its id and secret in the form) and the job
keeps the new grant, sealed, before it is used. A refresh token the provider rotates
(Microsoft returns a new one with every renewal) is kept too, so a link never ages out
while it is in use.

The OAuth client (its id and secret) is the operator's app registration with Google or
Microsoft, one for every tenant, from settings (``SLOTLINE_CALENDAR_GOOGLE_CLIENT_ID`` …):
tenants never see it, and rotating the secret is one settings change, not a re-link of
every calendar. Tokens and the secret never enter a log line or an error message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from pydantic import SecretStr

from slotline.availability.calendar_sync.port import CalendarUnavailable

GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"  # noqa: S105 — an address, not a secret
MICROSOFT_TOKEN_URL = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"  # noqa: S105
MICROSOFT_SCOPE = "https://graph.microsoft.com/Calendars.ReadWrite offline_access"

RENEW_EARLY = timedelta(seconds=60)
"""An access token this close to its expiry is renewed before the request, not after a 401."""


@dataclass(frozen=True)
class OAuthGrant:
    """What a Google or Microsoft link signs in with; ``repr`` shows no token."""

    refresh_token: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)
    expires_at: datetime | None = None

    @classmethod
    def of(cls, secret: str) -> OAuthGrant:
        """The grant in a link's opened credential: the JSON :meth:`sealable` wrote, or a
        bare access token (a Google link made before refresh tokens were kept)."""
        if secret.startswith("{"):
            try:
                data = json.loads(secret)
            except ValueError:
                data = None
            if isinstance(data, dict):
                expires = data.get("expires_at")
                return cls(
                    refresh_token=_text(data.get("refresh_token")),
                    access_token=_text(data.get("access_token")),
                    expires_at=datetime.fromisoformat(expires)
                    if isinstance(expires, str)
                    else None,
                )
        return cls(access_token=secret)

    def sealable(self) -> str:
        """The grant as the text a link's credential is sealed from."""
        return json.dumps(
            {
                "refresh_token": self.refresh_token,
                "access_token": self.access_token,
                "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            }
        )

    def usable(self, now: datetime) -> bool:
        """An access token that is not known to have expired (or to expire within
        :data:`RENEW_EARLY`); one of unknown lifetime is tried until it is refused."""
        if not self.access_token:
            return False
        return self.expires_at is None or now < self.expires_at - RENEW_EARLY


@dataclass(frozen=True)
class OAuthClient:
    """The operator's OAuth client at one provider's token endpoint."""

    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scope: str | None = None

    @classmethod
    def configured(
        cls,
        token_url: str,
        client_id: str | None,
        client_secret: SecretStr | None,
        scope: str | None = None,
    ) -> OAuthClient | None:
        """The client the settings name, or ``None`` when they name none."""
        if not client_id or client_secret is None:
            return None
        return cls(token_url, client_id, client_secret.get_secret_value(), scope)

    def refresh(self, http: httpx.Client, grant: OAuthGrant, now: datetime) -> OAuthGrant:
        """A new access token for ``grant`` (and the provider's new refresh token, if it
        rotates them); :class:`CalendarUnavailable` naming the provider's error code when
        it refuses (``invalid_grant``: the consent was revoked or expired — re-link)."""
        if not grant.refresh_token:
            raise CalendarUnavailable("the link has no refresh token: re-link it with one")
        form = {
            "grant_type": "refresh_token",
            "refresh_token": grant.refresh_token,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }
        if self.scope:
            form["scope"] = self.scope
        secrets = (grant.refresh_token, self.client_secret, grant.access_token or "")
        try:
            response = http.post(self.token_url, data=form, headers={"Accept": "application/json"})
        except httpx.HTTPError as error:
            raise CalendarUnavailable(
                f"token refresh: {type(error).__name__}: {_scrub(str(error), secrets)}"
            ) from None
        body = _json(response)
        if response.status_code != 200:
            code = _text(body.get("error")) or response.reason_phrase
            description = (_text(body.get("error_description")) or "").splitlines()[:1]
            detail = f"{code}: {description[0][:200]}" if description else code
            raise CalendarUnavailable(
                f"token refresh answered {response.status_code}: {_scrub(detail, secrets)}"
            )
        access = _text(body.get("access_token"))
        if not access:
            raise CalendarUnavailable("token refresh answered without an access_token")
        lifetime = _seconds(body.get("expires_in"))
        return OAuthGrant(
            refresh_token=_text(body.get("refresh_token")) or grant.refresh_token,
            access_token=access,
            expires_at=now + timedelta(seconds=lifetime) if lifetime is not None else None,
        )


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _seconds(value: object) -> int | None:
    """``expires_in``: a number of seconds (some servers send it as a string)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with any of ``secrets`` in it blanked (an error echoing a token)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<hidden>")
    return text
