"""The Google Calendar adapter of :class:`~.port.CalendarGateway` (Calendar API v3 over
``httpx``; what it shares with the Microsoft adapter is in :mod:`.rest`).

The link's URL is the calendar's API resource
(``https://www.googleapis.com/calendar/v3/calendars/<calendarId>``) and its credential
an OAuth grant (:mod:`.oauth`) with the ``calendar.events`` scope: the access token is
sent as a bearer token and renewed at ``https://oauth2.googleapis.com/token`` with the
refresh token when it has expired or is refused (``401``).

Pull: ``events.list`` with ``singleEvents=true`` (recurrences as their instances) from the
stored ``nextSyncToken``, page by page; a ``410 Gone`` (the token expired) lists the
calendar again from scratch. A cancelled event (or instance) is a deletion, a
transparent one is free. Push: ``events.import`` with the booking's ``iCalUID`` —
importing the same UID again updates that event, so a retry never duplicates; a
removal finds the event by ``iCalUID`` and deletes it (``404``/``410``: already gone).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, tzinfo
from urllib.parse import quote

import httpx

from slotline.availability.calendar_sync.port import BookingEntry, CalendarAccess
from slotline.availability.calendar_sync.rest import (
    BearerSession,
    Change,
    Item,
    RestCalendarGateway,
    busy_between,
    day_start,
    read_pages,
    text,
)
from slotline.availability.domain.calendar_sync import is_ours
from slotline.availability.domain.values import Interval


class GoogleCalendarGateway(RestCalendarGateway):
    settings_hint = "SLOTLINE_CALENDAR_GOOGLE_CLIENT_ID, SLOTLINE_CALENDAR_GOOGLE_CLIENT_SECRET"

    def changes(
        self, session: BearerSession, url: str, token: str | None, window: Interval
    ) -> tuple[list[Item], str | None]:
        params = {"singleEvents": "true", "maxResults": "250"}
        if token:
            params["syncToken"] = token

        def fetch(page_token: str | None) -> Item:
            more = {"pageToken": page_token} if page_token else {}
            return session.json(
                "GET",
                f"{url}/events",
                params={**params, **more},
                expired=_gone if token else None,
            )

        items, last = read_pages(fetch, lambda page: text(page.get("nextPageToken")), "items")
        return items, text(last.get("nextSyncToken"))

    def change(self, item: Item, window: Interval, zone: tzinfo) -> Change | None:
        event_id = text(item.get("id"))
        if event_id is None or is_ours(str(item.get("iCalUID", ""))):
            return None
        if item.get("status") == "cancelled":
            return Change(event_id, None)
        if item.get("transparency") == "transparent":
            return Change(event_id, ())
        start, end = _instant(item.get("start"), zone), _instant(item.get("end"), zone)
        return Change(event_id, busy_between(start, end, window))

    def find(self, session: BearerSession, url: str, uid: str) -> list[str]:
        found = session.json("GET", f"{url}/events", params={"iCalUID": uid})
        ids = (text(item.get("id")) for item in found.get("items", []))
        return [f"{url}/events/{quote(event_id, safe='')}" for event_id in ids if event_id]

    def write(self, access: CalendarAccess, entry: BookingEntry) -> None:
        body = {
            "iCalUID": entry.uid,
            "summary": entry.summary,
            "start": {"dateTime": entry.slot.start.isoformat()},
            "end": {"dateTime": entry.slot.end.isoformat()},
            "sequence": entry.sequence,
            "status": "confirmed",
            "transparency": "opaque",
        }
        with self.session(access) as session:
            session.call("POST", f"{access.url}/events/import", json=body)


def _gone(response: httpx.Response) -> bool:
    """``410 Gone`` on a request with a sync token: Google forgot it (fullSyncRequired)."""
    return response.status_code == 410


def _instant(value: object, zone: tzinfo) -> datetime | None:
    if not isinstance(value, Mapping):
        return None
    if "dateTime" in value:
        return datetime.fromisoformat(str(value["dateTime"]).replace("Z", "+00:00"))
    if "date" in value:  # an all-day event: that day in the location's zone
        return day_start(date.fromisoformat(str(value["date"])), zone)
    return None
