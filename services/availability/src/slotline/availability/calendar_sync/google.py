"""The Google Calendar adapter of :class:`~.port.CalendarGateway` (Calendar API v3 over
``httpx``).

The link's URL is the calendar's API resource
(``https://www.googleapis.com/calendar/v3/calendars/<calendarId>``) and its password an
OAuth access token with the ``calendar.events`` scope (sent as a bearer token; getting
and refreshing it is the operator's, see Known limits).

Pull: ``events.list`` with ``singleEvents=true`` (recurrences as their instances) from the
stored ``nextSyncToken``, page by page; a ``410 Gone`` (the token expired) lists the
calendar again from scratch. A cancelled event (or instance) is a deletion. Push:
``events.import`` with the booking's ``iCalUID`` — importing the same UID again updates
that event, so a retry never duplicates; a removal finds the event by ``iCalUID`` and
deletes it (``404``/``410``: already gone).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, tzinfo
from typing import Any

import httpx

from slotline.availability.calendar_sync.addresses import CalendarAddressRefused, check_address
from slotline.availability.calendar_sync.port import (
    BookingEntry,
    CalendarAccess,
    CalendarUnavailable,
    PullResult,
)
from slotline.availability.domain.calendar_sync import Pulled, is_ours
from slotline.availability.domain.values import Interval

_MAX_PAGES = 100


class GoogleCalendarGateway:
    def __init__(
        self,
        timeout_seconds: float = 10.0,
        allow_private: bool = False,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.timeout_seconds = timeout_seconds
        self.allow_private = allow_private
        self.transport = transport

    def pull(
        self,
        access: CalendarAccess,
        token: str | None,
        uids_by_href: Mapping[str, str],
        window: Interval,
        zone: tzinfo,
    ) -> PullResult:
        with self._client(access) as client:
            try:
                items, next_token = self._list(client, access, token)
                full = token is None
            except _FullSyncRequired:
                items, next_token = self._list(client, access, None)
                full = True
        busy: dict[str, tuple[Interval, ...]] = {}
        removed: set[str] = set()
        for item in items:
            event_id = str(item.get("id", ""))
            if not event_id or is_ours(str(item.get("iCalUID", ""))):
                continue
            if item.get("status") == "cancelled":
                removed.add(event_id)
                continue
            busy[event_id] = _busy(item, window, zone)
        ids = {event_id: event_id for event_id in busy}
        if not full:
            ids = {**{k: v for k, v in uids_by_href.items() if v not in removed}, **ids}
        return PullResult(Pulled(full=full, busy=busy, removed=frozenset(removed)), next_token, ids)

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
        with self._client(access) as client:
            self._call(client, "POST", f"{access.url}/events/import", json=body)

    def remove(self, access: CalendarAccess, uid: str) -> None:
        with self._client(access) as client:
            found = self._call(client, "GET", f"{access.url}/events", params={"iCalUID": uid})
            for item in found.json().get("items", []):
                self._call(client, "DELETE", f"{access.url}/events/{item['id']}", gone_is_fine=True)

    def _list(
        self, client: httpx.Client, access: CalendarAccess, token: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        items: list[dict[str, Any]] = []
        params: dict[str, str] = {"singleEvents": "true", "maxResults": "250"}
        if token:
            params["syncToken"] = token
        for _ in range(_MAX_PAGES):
            page = self._call(client, "GET", f"{access.url}/events", params=params).json()
            items.extend(page.get("items", []))
            if "nextPageToken" not in page:
                return items, page.get("nextSyncToken")
            params = {**params, "pageToken": page["nextPageToken"]}
        raise CalendarUnavailable(f"events.list did not end after {_MAX_PAGES} pages")

    def _call(
        self,
        client: httpx.Client,
        method: str,
        url: str,
        *,
        gone_is_fine: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        try:
            response = client.request(method, url, **kwargs)
        except httpx.HTTPError as error:
            raise CalendarUnavailable(f"{type(error).__name__}: {error}") from None
        if response.status_code == 410 and "syncToken" in kwargs.get("params", {}):
            raise _FullSyncRequired
        if gone_is_fine and response.status_code in (404, 410):
            return response
        if response.status_code >= 300:
            raise CalendarUnavailable(
                f"{method} answered {response.status_code}: {_reason(response)}"
            )
        return response

    def _client(self, access: CalendarAccess) -> httpx.Client:
        try:
            check_address(access.url, self.allow_private)
        except CalendarAddressRefused as refused:
            raise CalendarUnavailable(str(refused)) from None
        return httpx.Client(
            headers={"Authorization": f"Bearer {access.password}"},
            timeout=self.timeout_seconds,
            transport=self.transport,
        )


class _FullSyncRequired(Exception):
    """``410 Gone``: the sync token expired; list the calendar again."""


def _reason(response: httpx.Response) -> str:
    """Google's error message (never the request: it carries the token)."""
    try:
        return str(response.json()["error"]["message"])[:200]
    except (ValueError, KeyError, TypeError):
        return response.reason_phrase


def _busy(item: Mapping[str, Any], window: Interval, zone: tzinfo) -> tuple[Interval, ...]:
    if item.get("transparency") == "transparent":
        return ()
    start, end = _instant(item.get("start", {}), zone), _instant(item.get("end", {}), zone)
    if start is None or end is None or end <= start:
        return ()
    interval = Interval(start, end)
    return (interval,) if interval.overlaps(window) else ()


def _instant(value: Mapping[str, Any], zone: tzinfo) -> datetime | None:
    if "dateTime" in value:
        return datetime.fromisoformat(str(value["dateTime"]).replace("Z", "+00:00"))
    if "date" in value:  # an all-day event: that day in the location's zone
        return datetime.combine(date.fromisoformat(str(value["date"])), time(), zone)
    return None
