"""FastAPI dependencies shared by the availability routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from slotline.availability.application import AvailabilityApplication
from slotline.events.auth import Principal, Role, require_roles
from slotline.events.runtime import current_application


def availability(request: Request) -> AvailabilityApplication:
    application = current_application(request)
    if not isinstance(application, AvailabilityApplication):
        raise TypeError("the availability routes need the availability application")
    return application


Availability = Annotated[AvailabilityApplication, Depends(availability)]
Manager = Annotated[Principal, Depends(require_roles(Role.MANAGER))]
FrontDesk = Annotated[Principal, Depends(require_roles(Role.FRONT_DESK, Role.CHANNEL))]
Staff = Annotated[Principal, Depends(require_roles(Role.STAFF, Role.CHANNEL))]
