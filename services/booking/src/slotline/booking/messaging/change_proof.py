"""Whom a change request on ``booking.requests.v1`` may touch.

Kafka's ACLs say who may write the topic (channel adapters, call-intake); they cannot
say which bookings a writer may cancel or move, and a record's ``tenant_id`` is only
what its sender typed. So a cancel or move carries proof of its own
(``authorization``): the customer's manage-link token for that very booking (signed,
unexpired, not revoked since), or an access token with the ``channel`` role issued for
the booking's tenant. Anything else is refused as ``not_authorized`` — answered, never
dropped.
"""

from __future__ import annotations

from uuid import UUID

from slotline.booking.domain.booking import Booking
from slotline.booking.links import InvalidManageLink, ManageLinks
from slotline.events.auth import AuthenticationError, Role, TokenVerifier
from slotline.events.unit_of_work import UnitOfWork


class NotAuthorized(Exception):
    """The change request proves no right to act on its booking."""


class ChangeProof:
    def __init__(self, links: ManageLinks, verifier: TokenVerifier) -> None:
        self.links = links
        self.verifier = verifier

    def check(
        self, authorization: str | None, tenant_id: str, booking_id: UUID, work: UnitOfWork
    ) -> None:
        """Pass, or raise :class:`NotAuthorized` with a reason that echoes no secret."""
        if not authorization:
            raise NotAuthorized("a change needs authorization: a manage-link or channel token")
        try:
            grant = self.links.read(authorization)
        except InvalidManageLink:
            self._channel(authorization, tenant_id)
            return
        if grant.tenant_id != tenant_id or grant.booking_id != booking_id:
            raise NotAuthorized("the manage-link token is for another booking")
        booking = work.get(Booking, booking_id)
        if booking is not None:
            try:
                grant.still_valid_for(booking.link_version)
            except InvalidManageLink:
                raise NotAuthorized("the manage-link token was revoked") from None

    def _channel(self, token: str, tenant_id: str) -> None:
        try:
            principal = self.verifier.verify(token)
        except AuthenticationError:
            raise NotAuthorized(
                "the authorization is neither a valid manage-link token nor a valid access token"
            ) from None
        if not principal.has_any(Role.CHANNEL):
            raise NotAuthorized("the access token lacks the channel role")
        if principal.tenant_id != tenant_id:
            raise NotAuthorized("the access token is for another tenant")
