"""Rate limits of the booking service's public routes, per client address and counted
by every replica together (``slotline.events.rate_limits``): the public booking form
(``SLOTLINE_PUBLIC_RATE_LIMIT``) and the manage links (``SLOTLINE_MANAGE_RATE_LIMIT``)."""

from __future__ import annotations

from slotline.booking.settings import BookingSettings
from slotline.events.rate_limits import limited


def _public(settings: BookingSettings) -> str:
    return settings.public_rate_limit


def _manage(settings: BookingSettings) -> str:
    return settings.manage_rate_limit


throttle_public = limited("public-bookings", _public, "booking requests from this address")
"""FastAPI dependency of ``POST /v1/public/{tenant_id}/bookings``."""

throttle_manage = limited("manage-links", _manage, "requests on manage links from this address")
"""FastAPI dependency of every ``/v1/manage/{token}`` route."""
