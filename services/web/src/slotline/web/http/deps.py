"""What every page handler needs, from the app's state (set once in ``wiring``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from slotline.web.branding import Brands
from slotline.web.catalog import Catalogs
from slotline.web.clients.credentials import ChannelCredentials
from slotline.web.clients.services import Services
from slotline.web.settings import WebSettings
from slotline.web.throttle import Throttle


@dataclass
class Context:
    settings: WebSettings
    services: Services
    credentials: ChannelCredentials
    brands: Brands
    catalogs: Catalogs
    throttle: Throttle


async def context(request: Request) -> Context:
    found: Context = request.app.state.web
    return found


Web = Annotated[Context, Depends(context)]
