"""FastAPI dependencies shared by the notifier routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from slotline.events.auth import Principal, Role, require_roles
from slotline.events.runtime import application_dependency
from slotline.notifier.application import NotifierApplication

notifier = application_dependency(NotifierApplication)
"""The service's own application, for its routes."""


Notifier = Annotated[NotifierApplication, Depends(notifier)]
Manager = Annotated[Principal, Depends(require_roles(Role.MANAGER))]
Staff = Annotated[Principal, Depends(require_roles(Role.STAFF))]
