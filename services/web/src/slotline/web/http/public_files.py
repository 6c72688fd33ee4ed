"""Files a page refers to by a fixed name: the embed script a business puts on its own
site, its logo and app icon, and the odd browser request (favicon, robots)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from slotline.web.http.deps import Web
from slotline.web.http.shop import Tenant
from slotline.web.rendering import STATIC_DIR

router = APIRouter(tags=["files"])

_DEFAULT_ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40">'
    '<rect width="40" height="40" rx="8" fill="{colour}"/>'
    '<text x="20" y="27" font-size="20" text-anchor="middle" fill="{on}" '
    'font-family="sans-serif">{initial}</text></svg>'
)


@router.get("/", include_in_schema=False)
async def home() -> Response:
    """Customers arrive by a business's booking link; this address is the front desk's."""
    return RedirectResponse("/console", 302)


@router.get("/embed.js", include_in_schema=False)
async def embed_script() -> Response:
    """``<script src=".../embed.js" data-booking="/demo/kifisia-clinic" async></script>``
    puts the booking page in an iframe that grows with its content."""
    return FileResponse(
        STATIC_DIR / "embed.js",
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> Response:
    return Response(status_code=204)


@router.get("/robots.txt", include_in_schema=False)
async def robots() -> Response:
    return Response("User-agent: *\nDisallow: /v1/\nDisallow: /console\n", media_type="text/plain")


@router.get("/brand/{tenant}/logo", include_in_schema=False)
async def logo(tenant: Tenant, web: Web) -> Response:
    brand = web.brands.of(tenant)
    if brand.logo is None:
        raise HTTPException(404, "no logo")
    return FileResponse(brand.logo, headers={"Cache-Control": "public, max-age=86400"})


@router.get("/{tenant}/icon.svg", include_in_schema=False)
async def icon(tenant: Tenant, request: Request, web: Web) -> Response:
    brand = web.brands.of(tenant)
    if brand.logo is not None and brand.logo.suffix == ".svg":
        return FileResponse(brand.logo, media_type="image/svg+xml")
    svg = _DEFAULT_ICON.format(
        colour=brand.colour, on=brand.on_colour, initial=(brand.name[:1] or "S").upper()
    )
    return Response(svg, media_type="image/svg+xml")
