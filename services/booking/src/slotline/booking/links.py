"""Manage links: a signed token in a URL lets a customer see, move or cancel their
booking without an account. The token names the tenant and booking and expires a
month after the appointment; it is deterministic, so a republished event carries the
same link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import jwt

_AUDIENCE = "slotline-manage"
_ALGORITHM = "HS256"


class InvalidManageLink(Exception):
    """The link is forged, for another purpose, or expired."""


@dataclass(frozen=True)
class ManageLinks:
    secret: str
    base_url: str
    valid_after_visit: timedelta = timedelta(days=30)

    def token(self, tenant_id: str, booking_id: UUID, visit_end: datetime) -> str:
        claims = {
            "aud": _AUDIENCE,
            "sub": str(booking_id),
            "tnt": tenant_id,
            "exp": int((visit_end + self.valid_after_visit).timestamp()),
        }
        return jwt.encode(claims, self.secret, algorithm=_ALGORITHM)

    def url(self, tenant_id: str, booking_id: UUID, visit_end: datetime) -> str:
        return (
            f"{self.base_url.rstrip('/')}/v1/manage/{self.token(tenant_id, booking_id, visit_end)}"
        )

    def read(self, token: str) -> tuple[str, UUID]:
        """The tenant and booking a token grants; raises :class:`InvalidManageLink`."""
        try:
            claims = jwt.decode(token, self.secret, algorithms=[_ALGORITHM], audience=_AUDIENCE)
            return str(claims["tnt"]), UUID(str(claims["sub"]))
        except (jwt.PyJWTError, KeyError, ValueError) as error:
            raise InvalidManageLink(f"this manage link is not valid: {error}") from None
