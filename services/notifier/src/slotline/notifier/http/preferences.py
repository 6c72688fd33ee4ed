"""``GET``/``PUT /preferences``: a tenant's reminder kinds, sending window, name, language."""

from __future__ import annotations

from typing import Annotated, Any, Self

import anyio
from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from slotline.events.audit import audited_route
from slotline.events.http_contract import refusals
from slotline.notifier.domain.preferences import TenantPreferences
from slotline.notifier.domain.reminders import parse_kinds
from slotline.notifier.http.deps import Manager, Notifier

_AFTER_8 = r"^(08:(0[1-9]|[1-5]\d)|09:[0-5]\d|1\d:[0-5]\d|2[0-3]:[0-5]\d)$"
"""A time after 08:00: quiet hours that began by then would leave no sending window."""
_BEFORE_21 = r"^([01]\d|20):[0-5]\d$"
"""A time before 21:00: quiet hours that ended after it would leave no sending window."""
_KIND = r"^\s*(?:(?:[1-9]\d{0,3}|0[1-9]\d{0,2}|00[1-9]\d?|000[1-9])[mhd])?\s*$"
"""A reminder kind (``24h``, ``30m``, ``2d``: 1 to 4 digits, not zero), or blank (skipped)."""


class PreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reminders: list[Annotated[str, Field(pattern=_KIND)]] | None = Field(
        default=None, max_length=10, description='Reminder kinds, e.g. ["24h", "1h"].'
    )
    quiet_hours_start: str | None = Field(
        default=None,
        pattern=_AFTER_8,
        description="No non-urgent texts from (after 08:00; the window closes by 21:00).",
    )
    quiet_hours_end: str | None = Field(
        default=None,
        pattern=_BEFORE_21,
        description="… until (before 21:00; the window opens at 08:00 at the earliest);"
        " quiet hours run overnight: when both are given, the end is before the start. Given"
        " alone, it must leave a window with the other as saved (409 otherwise).",
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


router = APIRouter(
    prefix="/preferences",
    tags=["preferences"],
    dependencies=[Depends(audited_route("notification_preferences"))],
)


@router.get("", summary="The tenant's notification preferences")
async def show(app: Notifier, principal: Manager) -> dict[str, Any]:
    return _out(await anyio.to_thread.run_sync(app.preferences_of, principal.tenant_id))


@router.put("", summary="Change the tenant's notification preferences", responses=refusals(409))
async def change(body: PreferencesIn, app: Notifier, principal: Manager) -> dict[str, Any]:
    values = body.model_dump(exclude_none=True)
    try:
        prefs = await anyio.to_thread.run_sync(app.save_preferences, principal.tenant_id, values)
    except ValueError as error:  # one end of the quiet hours, and the saved other, leave none
        raise HTTPException(409, f"with the saved quiet hours: {error}") from None
    return _out(prefs)
