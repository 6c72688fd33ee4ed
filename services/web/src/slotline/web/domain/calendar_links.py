"""An "add to Google Calendar" link for a booking (the .ics file serves the rest)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode


def google_calendar_url(
    title: str, start: datetime, end: datetime, where: str, details: str
) -> str:
    def stamp(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")

    query = urlencode(
        {
            "action": "TEMPLATE",
            "text": title,
            "dates": f"{stamp(start)}/{stamp(end)}",
            "location": where,
            "details": details,
        }
    )
    return f"https://calendar.google.com/calendar/render?{query}"
