"""FastAPI dependencies shared by the payments routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from slotline.events.auth import Principal, Role, require_roles
from slotline.events.runtime import application_dependency
from slotline.payments.application import PaymentsApplication

payments = application_dependency(PaymentsApplication)
"""The service's own application, for its routes."""


Payments = Annotated[PaymentsApplication, Depends(payments)]
Manager = Annotated[Principal, Depends(require_roles(Role.MANAGER))]
Staff = Annotated[Principal, Depends(require_roles(Role.STAFF))]
Shopper = Annotated[Principal, Depends(require_roles(Role.STAFF, Role.CHANNEL))]
