"""What the customer pages share: the tenant's brand on the page, its location and
service from the URL (404 when unknown), and the channel token to ask with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import HTTPException, Path, Request

from slotline.web.catalog import Location, Service
from slotline.web.domain.calendar import Slot, slots_from
from slotline.web.http.deps import Context

Tenant = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
Key = Annotated[str, Path(min_length=1, max_length=200)]


@dataclass(frozen=True)
class Shop:
    """One service of one location of one tenant, as the booking pages show it."""

    tenant_id: str
    location: Location
    service: Service
    token: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.location.time_zone)

    @property
    def base(self) -> str:
        return f"/{self.tenant_id}/{self.location.slug}/{self.service.slug}"


def brand_page(request: Request, web: Context, tenant_id: str) -> None:
    """Put the tenant's brand on whatever this request renders."""
    request.state.page = {"brand": web.brands.of(tenant_id), "tenant": tenant_id}


async def shop(
    request: Request, web: Context, tenant_id: str, location_key: str, service_key: str
) -> Shop:
    brand_page(request, web, tenant_id)
    location = await web.catalogs.location(tenant_id, location_key)
    service = location.service(service_key) if location else None
    if location is None or service is None:
        raise HTTPException(404, "no such service here")
    return Shop(tenant_id, location, service, web.credentials.for_tenant(tenant_id))


async def offered(web: Context, shop: Shop, start: datetime, days: int) -> list[Slot]:
    """The slots the availability service offers from ``start`` for ``days`` local days
    (taken ones included, so a day can say it is fully booked)."""
    local = start.astimezone(shop.zone)
    until = datetime.combine(local.date() + timedelta(days=days), datetime.min.time(), shop.zone)
    rows = await web.services.availability.slots(
        shop.token,
        location_id=shop.location.location_id,
        service_id=shop.service.service_id,
        start=start.astimezone(UTC),
        until=until.astimezone(UTC),
        include_booked=True,
    )
    return slots_from(rows, shop.zone)


def now() -> datetime:
    return datetime.now(UTC)


def client_of(request: Request, web: Context) -> str:
    """The customer's address (the one the submission throttle counts)."""
    forwarded = request.headers.get("x-forwarded-for")
    if web.settings.web_trust_forwarded_for and forwarded:
        return forwarded.split(",")[0].strip()
    return request.client.host if request.client else "unknown"
