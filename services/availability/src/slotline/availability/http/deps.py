"""FastAPI dependencies shared by the availability routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from slotline.availability.application import AvailabilityApplication
from slotline.events.auth import Principal, Role, require_roles
from slotline.events.runtime import application_dependency

availability = application_dependency(AvailabilityApplication)
"""The service's own application, for its routes."""


Availability = Annotated[AvailabilityApplication, Depends(availability)]
Manager = Annotated[Principal, Depends(require_roles(Role.MANAGER))]
FrontDesk = Annotated[Principal, Depends(require_roles(Role.FRONT_DESK, Role.CHANNEL))]
Staff = Annotated[Principal, Depends(require_roles(Role.STAFF, Role.CHANNEL))]
