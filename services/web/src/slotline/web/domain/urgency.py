"""How urgent a callback is: the time left to its SLA deadline and the colour band
the front desk sees (ok, soon, late)."""

from __future__ import annotations

from datetime import datetime, timedelta

WARN_BEFORE = timedelta(minutes=5)


def urgency(deadline: datetime, now: datetime, warn_before: timedelta = WARN_BEFORE) -> str:
    """``late`` past the deadline, ``soon`` inside the warning window, else ``ok``."""
    if now >= deadline:
        return "late"
    if deadline - now <= warn_before:
        return "soon"
    return "ok"


def countdown(deadline: datetime, now: datetime) -> str:
    """``12:05`` left, or ``-3:10`` past the deadline (minutes:seconds)."""
    seconds = int((deadline - now).total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    return f"{sign}{seconds // 60}:{seconds % 60:02d}"
