"""Manage links: a signed token in a URL lets a customer see, move or cancel their
booking without an account. The token names the tenant, the booking and the booking's
link version, and must carry its expiry (a month after the appointment); it is
deterministic, so a republished event carries the same link. Staff revoke every link of
a booking by moving its version on (:meth:`Booking.revoke_links`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from slotline.events.signed_links import LinkRefused, LinkSigner

_AUDIENCE = "slotline-manage"


class InvalidManageLink(Exception):
    """The link is forged, for another purpose, expired or revoked. Its text says no
    more than that: which check failed would help whoever forges links."""

    def __init__(self) -> None:
        super().__init__("this manage link is not valid (any more)")


@dataclass(frozen=True)
class ManageGrant:
    """What a valid token grants: one booking of one tenant, as of its link version."""

    tenant_id: str
    booking_id: UUID
    link_version: int

    def still_valid_for(self, current_version: int) -> None:
        """Raises :class:`InvalidManageLink` when the booking's links were revoked since."""
        if self.link_version != current_version:
            raise InvalidManageLink


@dataclass(frozen=True)
class ManageLinks:
    secret: str
    base_url: str
    valid_after_visit: timedelta = timedelta(days=30)

    def token(self, tenant_id: str, booking_id: UUID, visit_end: datetime, version: int = 0) -> str:
        claims: dict[str, object] = {
            "sub": str(booking_id),
            "tnt": tenant_id,
            "exp": int((visit_end + self.valid_after_visit).timestamp()),
        }
        if version:  # links sent before revocation existed carry none: version 0
            claims["ver"] = version
        return LinkSigner(self.secret, _AUDIENCE).sign(claims)

    def url(self, tenant_id: str, booking_id: UUID, visit_end: datetime, version: int = 0) -> str:
        token = self.token(tenant_id, booking_id, visit_end, version)
        return f"{self.base_url.rstrip('/')}/v1/manage/{token}"

    def read(self, token: str) -> ManageGrant:
        """What a token grants; raises :class:`InvalidManageLink` (expiry required)."""
        try:
            claims = LinkSigner(self.secret, _AUDIENCE).read(token, "sub", "tnt")
            return ManageGrant(
                str(claims["tnt"]), UUID(str(claims["sub"])), int(claims.get("ver", 0))
            )
        except (LinkRefused, KeyError, ValueError, TypeError):
            raise InvalidManageLink from None


_WAITLIST_AUDIENCE = "slotline-waitlist"


@dataclass(frozen=True)
class WaitlistGrant:
    """What a waitlist link grants: one entry of one line of one tenant."""

    tenant_id: str
    line_id: UUID
    entry_id: str


@dataclass(frozen=True)
class WaitlistLinks:
    """A customer's link to their place in a waitlist (see it, leave): signed like a
    manage link, for another audience, valid until two days after the day waited for.
    Offers are claimed on the offer booking's own manage link."""

    secret: str
    base_url: str

    def token(self, tenant_id: str, line_id: UUID, entry_id: str, until: datetime) -> str:
        claims: dict[str, object] = {
            "sub": entry_id,
            "lin": str(line_id),
            "tnt": tenant_id,
            "exp": int((until + timedelta(days=2)).timestamp()),
        }
        return LinkSigner(self.secret, _WAITLIST_AUDIENCE).sign(claims)

    def url(self, tenant_id: str, line_id: UUID, entry_id: str, until: datetime) -> str:
        token = self.token(tenant_id, line_id, entry_id, until)
        return f"{self.base_url.rstrip('/')}/v1/waitlist/{token}"

    def read(self, token: str) -> WaitlistGrant:
        """What a token grants; raises :class:`InvalidManageLink` (expiry required)."""
        try:
            claims = LinkSigner(self.secret, _WAITLIST_AUDIENCE).read(token, "sub", "tnt", "lin")
            return WaitlistGrant(str(claims["tnt"]), UUID(str(claims["lin"])), str(claims["sub"]))
        except (LinkRefused, KeyError, ValueError, TypeError):
            raise InvalidManageLink from None
