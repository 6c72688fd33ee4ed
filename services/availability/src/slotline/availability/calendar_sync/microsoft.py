"""The Microsoft 365 adapter of :class:`~.port.CalendarGateway` (Microsoft Graph v1.0
over ``httpx``; what it shares with the Google adapter is in :mod:`.rest`).

The link's URL is the calendar's Graph resource —
``https://graph.microsoft.com/v1.0/me/calendars/<calendarId>`` or
``…/users/<userId>/calendars/<calendarId>`` (``…/me/calendar`` for the primary one) —
and its credential an OAuth grant (:mod:`.oauth`; scopes ``Calendars.ReadWrite`` and
``offline_access``) renewed at the Microsoft identity platform's token endpoint
(``https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token``) when the access
token has expired or is refused (``401``).

Pull: a delta query on the calendar view, ``GET <calendar>/calendarView/delta`` with
``startDateTime`` and ``endDateTime`` (the sync window; recurrences come as their
occurrences and exceptions), following ``@odata.nextLink`` page by page; the round's
``@odata.deltaLink`` is the sync token, and the next pull GETs it. A ``410 Gone`` — or
a 4xx whose code says the sync state is gone (``syncStateNotFound``,
``syncStateInvalid``, ``resyncRequired``) — lists the view again from scratch. An item
with ``@removed`` is a deletion (Graph reports an event that left the window so too);
``showAs: free`` and cancelled events are free; times are UTC (no ``Prefer:
outlook.timezone``), an all-day event covers its days in the location's zone.

Push: the booking's event carries the booking's UID in a single-value extended
property. A write finds the event by that property
(``$filter=singleValueExtendedProperties/Any(…)``) and PATCHes it (deleting any second
one), or creates it with a ``transactionId`` (the UID and the booking's version: Graph
drops a repeated create with the same id) — so a retry updates and never duplicates. A
removal finds the event the same way and DELETEs it (``404``: already gone). The delta
returns our events with their ``transactionId``, by which the pull skips them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from slotline.availability.calendar_sync.port import (
    BookingEntry,
    CalendarAccess,
    CalendarUnavailable,
)
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

UID_PROPERTY = "String {638dcc5b-2905-5a27-a421-553fd06805b9} Name SlotlineBookingUid"
"""The extended property holding a booking event's UID (Slotline's own property set)."""

PAGE_SIZE = 100
_SYNC_STATE_GONE = {"syncstatenotfound", "syncstateinvalid", "resyncrequired"}
_UTC_NAMES = {"UTC", "Etc/UTC", "tzone://Microsoft/Utc"}


class MicrosoftCalendarGateway(RestCalendarGateway):
    settings_hint = (
        "SLOTLINE_CALENDAR_MICROSOFT_CLIENT_ID, SLOTLINE_CALENDAR_MICROSOFT_CLIENT_SECRET"
    )

    def changes(
        self, session: BearerSession, url: str, token: str | None, window: Interval
    ) -> tuple[list[Item], str | None]:
        if token is None:
            first = f"{url}/calendarView/delta"
            params: dict[str, str] | None = {
                "startDateTime": _utc_text(window.start),
                "endDateTime": _utc_text(window.end),
            }
        else:  # the deltaLink carries the window and the state
            first, params = token, None

        def fetch(link: str | None) -> Item:
            return session.json(
                "GET",
                link or first,
                params=None if link else params,
                headers={"Prefer": f"odata.maxpagesize={PAGE_SIZE}"},
                expired=_sync_state_gone if token else None,
            )

        items, last = read_pages(fetch, _next_link, "value")
        return items, text(last.get("@odata.deltaLink"))

    def change(self, item: Item, window: Interval, zone: tzinfo) -> Change | None:
        event_id = text(item.get("id"))
        if event_id is None:
            return None
        if "@removed" in item:
            return Change(event_id, None)
        if _ours(item):
            return None
        if item.get("isCancelled") or item.get("showAs") == "free":
            return Change(event_id, ())
        if item.get("type") == "seriesMaster":  # a calendar view lists its occurrences
            return Change(event_id, ())
        all_day = bool(item.get("isAllDay"))
        start = _instant(item.get("start"), all_day, zone)
        end = _instant(item.get("end"), all_day, zone)
        return Change(event_id, busy_between(start, end, window))

    def find(self, session: BearerSession, url: str, uid: str) -> list[str]:
        value = uid.replace("'", "''")
        match = (
            f"singleValueExtendedProperties/Any(ep: ep/id eq '{UID_PROPERTY}'"
            f" and ep/value eq '{value}')"
        )

        def fetch(link: str | None) -> Item:
            if link:
                return session.json("GET", link)
            return session.json("GET", f"{url}/events", params={"$filter": match, "$select": "id"})

        items, _ = read_pages(fetch, _next_link, "value")
        ids = (text(item.get("id")) for item in items)
        return [f"{url}/events/{quote(event_id, safe='')}" for event_id in ids if event_id]

    def write(self, access: CalendarAccess, entry: BookingEntry) -> None:
        event = {
            "subject": entry.summary,
            "start": _graph_time(entry.slot.start),
            "end": _graph_time(entry.slot.end),
            "showAs": "busy",
            "isReminderOn": False,
        }
        with self.session(access) as session:
            found = self.find(session, access.url, entry.uid)
            if found:
                session.call("PATCH", found[0], json=event)
                for duplicate in found[1:]:
                    session.call("DELETE", duplicate, gone_is_fine=True)
                return
            created = {
                **event,
                "transactionId": f"{entry.uid}#{entry.sequence}",
                "singleValueExtendedProperties": [{"id": UID_PROPERTY, "value": entry.uid}],
            }
            session.call("POST", f"{access.url}/events", json=created)


def _ours(item: Item) -> bool:
    """An event Slotline created: its ``transactionId`` is ``<booking uid>#<version>``."""
    transaction = text(item.get("transactionId")) or ""
    return is_ours(transaction.rpartition("#")[0])


def _next_link(page: Item) -> str | None:
    return text(page.get("@odata.nextLink"))


def _sync_state_gone(response: httpx.Response) -> bool:
    if response.status_code == 410:
        return True
    if not 400 <= response.status_code < 500 or response.status_code == 401:
        return False
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return False
    return isinstance(code, str) and code.lower() in _SYNC_STATE_GONE


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _graph_time(moment: datetime) -> dict[str, str]:
    """A dateTimeTimeZone: the wall time in UTC and the zone's name."""
    return {
        "dateTime": moment.astimezone(UTC).replace(tzinfo=None).isoformat(),
        "timeZone": "UTC",
    }


def _instant(value: object, all_day: bool, zone: tzinfo) -> datetime | None:
    if not isinstance(value, Mapping) or not isinstance(value.get("dateTime"), str):
        return None
    moment = datetime.fromisoformat(value["dateTime"])
    if all_day:  # midnight to midnight: those days in the location's zone
        return day_start(moment.date(), zone)
    if moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=_zone(value.get("timeZone")))


def _zone(name: object) -> tzinfo:
    if name is None or name in _UTC_NAMES:
        return UTC
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarUnavailable(f"an event's time zone {name!r} is not understood") from None
