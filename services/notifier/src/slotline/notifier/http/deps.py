"""FastAPI dependencies shared by the notifier routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from slotline.events.auth import Principal, Role, require_roles
from slotline.events.runtime import current_application
from slotline.notifier.application import NotifierApplication


def notifier(request: Request) -> NotifierApplication:
    application = current_application(request)
    if not isinstance(application, NotifierApplication):
        raise TypeError("the notifier routes need the notifier application")
    return application


Notifier = Annotated[NotifierApplication, Depends(notifier)]
Manager = Annotated[Principal, Depends(require_roles(Role.MANAGER))]
Staff = Annotated[Principal, Depends(require_roles(Role.STAFF))]
