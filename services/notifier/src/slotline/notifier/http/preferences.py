"""``GET``/``PUT /preferences``: a tenant's reminder kinds, sending window, name, language."""

from __future__ import annotations

from typing import Any, Self

import anyio
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from slotline.notifier.domain.preferences import TenantPreferences
from slotline.notifier.domain.reminders import parse_kinds
from slotline.notifier.http.deps import Manager, Notifier

_HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"


class PreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reminders: list[str] | None = Field(
        default=None, max_length=10, description='Reminder kinds, e.g. ["24h", "1h"].'
    )
    quiet_hours_start: str | None = Field(
        default=None, pattern=_HHMM, description="No non-urgent texts from (never after 21:00)."
    )
    quiet_hours_end: str | None = Field(
        default=None, pattern=_HHMM, description="… until (never before 08:00)."
    )
    business_name: str | None = Field(default=None, min_length=1, max_length=200)
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}(-[A-Z]{2})?$")

    @field_validator("reminders")
    @classmethod
    def _kinds(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            parse_kinds(value)  # raises ValueError naming the bad kind → 422
        return value

    @model_validator(mode="after")
    def _window(self) -> Self:
        start, end = self.quiet_hours_start, self.quiet_hours_end
        if start and end and end >= start:
            raise ValueError("quiet hours run overnight: quiet_hours_end must be before start")
        return self


def _out(prefs: TenantPreferences) -> dict[str, Any]:
    return {
        "reminders": [k.name for k in prefs.reminder_kinds],
        "quiet_hours_start": prefs.window.closes.strftime("%H:%M"),
        "quiet_hours_end": prefs.window.opens.strftime("%H:%M"),
        "business_name": prefs.business_name,
        "language": prefs.language,
    }


router = APIRouter(prefix="/preferences", tags=["preferences"])


@router.get("", summary="The tenant's notification preferences")
async def show(app: Notifier, principal: Manager) -> dict[str, Any]:
    return _out(await anyio.to_thread.run_sync(app.preferences_of, principal.tenant_id))


@router.put("", summary="Change the tenant's notification preferences")
async def change(body: PreferencesIn, app: Notifier, principal: Manager) -> dict[str, Any]:
    values = body.model_dump(exclude_none=True)
    prefs = await anyio.to_thread.run_sync(app.save_preferences, principal.tenant_id, values)
    return _out(prefs)
