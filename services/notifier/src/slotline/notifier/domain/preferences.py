"""A tenant's notification preferences: reminder kinds, sending window, name, language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import Any

from slotline.notifier.domain.reminders import ReminderKind, parse_kinds
from slotline.notifier.domain.sending_window import SendingWindow


@dataclass(frozen=True)
class TenantPreferences:
    reminder_kinds: tuple[ReminderKind, ...]
    window: SendingWindow
    business_name: str
    language: str = "en"

    def overridden(self, values: dict[str, Any]) -> TenantPreferences:
        """These preferences with a tenant's stored overrides applied."""
        kinds = values.get("reminders")
        opens, closes = values.get("quiet_hours_end"), values.get("quiet_hours_start")
        window = SendingWindow(
            time.fromisoformat(opens) if opens else self.window.opens,
            time.fromisoformat(closes) if closes else self.window.closes,
        ).clamped()
        return TenantPreferences(
            reminder_kinds=parse_kinds(kinds) if kinds is not None else self.reminder_kinds,
            window=window,
            business_name=values.get("business_name") or self.business_name,
            language=values.get("language") or self.language,
        )
