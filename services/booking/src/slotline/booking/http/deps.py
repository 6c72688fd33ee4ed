"""FastAPI dependencies shared by the booking routes."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request

from slotline.booking.application import BookingApplication
from slotline.booking.links import ManageLinks
from slotline.booking.live.watch import BookingWatch
from slotline.booking.settings import BookingSettings
from slotline.events.auth import Principal, Role, require_roles
from slotline.events.runtime import application_dependency

bookings = application_dependency(BookingApplication)
"""The service's own application, for its routes."""


def settings_of(request: Request) -> BookingSettings:
    return cast(BookingSettings, request.app.state.runtime.spec.settings)


# Dependencies that only look up the app's state are ``async def``: FastAPI runs a sync
# one in a worker thread, and under a burst those hops queue for the thread limiter.


async def settings(request: Request) -> BookingSettings:
    return settings_of(request)


async def watch(request: Request) -> BookingWatch:
    for task in request.app.state.runtime.background:
        if isinstance(task, BookingWatch):
            return task
    raise RuntimeError("the booking watch is not running")


async def links(request: Request) -> ManageLinks:
    config = settings_of(request)
    return ManageLinks(config.manage_link_secret.get_secret_value(), config.public_base_url)


Bookings = Annotated[BookingApplication, Depends(bookings)]
Settings = Annotated[BookingSettings, Depends(settings)]
Watch = Annotated[BookingWatch, Depends(watch)]
Links = Annotated[ManageLinks, Depends(links)]
Owner = Annotated[Principal, Depends(require_roles(Role.OWNER))]
Manager = Annotated[Principal, Depends(require_roles(Role.MANAGER))]
FrontDesk = Annotated[Principal, Depends(require_roles(Role.FRONT_DESK))]
Staff = Annotated[Principal, Depends(require_roles(Role.STAFF))]
Requester = Annotated[Principal, Depends(require_roles(Role.FRONT_DESK, Role.CHANNEL))]
"""Who may submit a booking request: the front desk, or a channel (the web booking page,
a partner) — a channel credential does that and nothing else: no day sheet, customers,
timelines or changes to bookings (it reads its outcome from the answer and the manage
link it gets)."""
