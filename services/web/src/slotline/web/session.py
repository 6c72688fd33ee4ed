"""The console's session: a signed, HttpOnly cookie holding the staff member's access
token and a random CSRF secret. No server-side store: the token is the identity the
other services check on every call, and it expires on its own."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

from slotline.events.auth import Principal

COOKIE = "slotline_console"


@dataclass(frozen=True)
class Session:
    token: str
    csrf: str
    principal: Principal

    def csrf_matches(self, sent: str | None) -> bool:
        return bool(sent) and hmac.compare_digest(self.csrf, str(sent))


class Sessions:
    def __init__(self, secret: str, max_age_seconds: int) -> None:
        self.serializer = URLSafeTimedSerializer(secret, salt="slotline-console")
        self.max_age = max_age_seconds

    def cookie_for(self, token: str) -> str:
        return self.serializer.dumps({"t": token, "c": secrets.token_urlsafe(24)})

    def read(self, cookie: str | None) -> tuple[str, str] | None:
        """(token, csrf) from a cookie this service signed, still young enough."""
        if not cookie:
            return None
        try:
            data = self.serializer.loads(cookie, max_age=self.max_age)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("t"), str):
            return None
        return data["t"], str(data.get("c", ""))
