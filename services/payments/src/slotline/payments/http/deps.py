"""FastAPI dependencies shared by the payments routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from slotline.events.auth import Principal, Role, require_roles
from slotline.events.runtime import current_application
from slotline.payments.application import PaymentsApplication


def payments(request: Request) -> PaymentsApplication:
    application = current_application(request)
    if not isinstance(application, PaymentsApplication):
        raise TypeError("the payments routes need the payments application")
    return application


Payments = Annotated[PaymentsApplication, Depends(payments)]
Manager = Annotated[Principal, Depends(require_roles(Role.MANAGER))]
Staff = Annotated[Principal, Depends(require_roles(Role.STAFF))]
Shopper = Annotated[Principal, Depends(require_roles(Role.STAFF, Role.CHANNEL))]
