"""FastAPI dependencies shared by the call-intake routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from slotline.call_intake.application import CallIntakeApplication
from slotline.call_intake.settings import CallIntakeSettings
from slotline.events.auth import Principal, Role, require_roles
from slotline.events.runtime import application_dependency

intake = application_dependency(CallIntakeApplication)
"""The service's own application, for its routes."""


async def settings(request: Request) -> CallIntakeSettings:
    configured = request.app.state.runtime.settings
    if not isinstance(configured, CallIntakeSettings):
        raise TypeError("the call-intake routes need call-intake settings")
    return configured


def schema_of(app: CallIntakeApplication) -> str:
    return app.schema


Intake = Annotated[CallIntakeApplication, Depends(intake)]
Settings = Annotated[CallIntakeSettings, Depends(settings)]
Manager = Annotated[Principal, Depends(require_roles(Role.MANAGER))]
FrontDesk = Annotated[Principal, Depends(require_roles(Role.FRONT_DESK))]
Intakes = Annotated[Principal, Depends(require_roles(Role.FRONT_DESK, Role.CHANNEL))]
Figures = Annotated[Principal, Depends(require_roles(Role.MANAGER, Role.ANALYST))]
