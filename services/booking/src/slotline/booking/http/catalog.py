"""``GET /v1/public/{tenant}/catalog``: what a booking page lists before anyone picks —
the tenant's locations and their services with price and what is due when booking.
Public, like the quote: names and prices are on the business's own website anyway."""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter

from slotline.booking.http.bookings import TenantPath
from slotline.booking.http.deps import Bookings
from slotline.booking.http.policies import quote

router = APIRouter(tags=["catalog"])


@router.get("/v1/public/{tenant_id}/catalog")
async def public_catalog(tenant_id: TenantPath, app: Bookings) -> list[dict[str, Any]]:
    """Locations (name, zone, address), each with its services and their quote."""
    locations = await anyio.to_thread.run_sync(app.catalog.listing, tenant_id)
    tiers = {s["price_tier"] for location in locations for s in location["services"]}
    policies = {
        tier: await anyio.to_thread.run_sync(app.policy_for, tenant_id, tier) for tier in tiers
    }
    for location in locations:
        for service in location["services"]:
            tier = service["price_tier"]
            service["quote"] = quote(tier, policies[tier]).model_dump(mode="json")
    return locations
