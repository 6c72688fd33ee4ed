"""Signed, expiring tokens in URLs that grant one thing without an account: a booking's
manage link, a place in a waitlist, a resource's calendar feed. A JWT (HS256, PyJWT)
with an audience per purpose, so a token for one never opens another; the expiry is
required. A refusal says no more than that: which check failed, or whether the thing
exists, would help whoever forges or guesses links."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt

_ALGORITHM = "HS256"


class LinkRefused(Exception):
    """Forged, for another purpose, expired, or missing a claim."""


@dataclass(frozen=True)
class LinkSigner:
    secret: str
    audience: str

    def sign(self, claims: dict[str, object]) -> str:
        """A token carrying ``claims`` (with ``exp``, a POSIX time) for this audience."""
        return jwt.encode({"aud": self.audience, **claims}, self.secret, algorithm=_ALGORITHM)

    def read(self, token: str, *required: str, check_expiry: bool = True) -> dict[str, Any]:
        """The claims of a token signed for this audience; ``exp`` and ``required`` must
        be there. ``check_expiry=False``: the caller checks it against its own clock."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.secret,
                algorithms=[_ALGORITHM],
                audience=self.audience,
                options={"require": ["exp", "aud", *required], "verify_exp": check_expiry},
            )
        except jwt.PyJWTError:
            raise LinkRefused from None
        return claims
