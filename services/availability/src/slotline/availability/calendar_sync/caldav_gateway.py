"""The CalDAV adapter of :class:`~.port.CalendarGateway` (the ``caldav`` client).

Pull: a sync-collection REPORT from the stored sync token (RFC 6578); without a token,
or when the server no longer knows it, ``caldav`` lists the calendar whole and the pull
says so (``full``). Push: a PUT of the booking's event at ``<calendar>/<uid>.ics`` — the
same resource on every retry, so a retry overwrites and never duplicates — and a DELETE
of it (a 404 is already done).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any
from urllib.parse import quote

import recurring_ical_events  # type: ignore[import-untyped]
from caldav.davclient import DAVClient
from caldav.lib import error as caldav_error
from icalendar import Calendar, Event

from slotline.availability.calendar_sync.addresses import CalendarAddressRefused, check_address
from slotline.availability.calendar_sync.port import (
    BookingEntry,
    CalendarAccess,
    CalendarUnavailable,
    PullResult,
)
from slotline.availability.domain.calendar_sync import Pulled
from slotline.availability.domain.values import Interval

_FAKE_TOKEN = "fake-"  # noqa: S105 — caldav's marker of a token it made up after listing everything


class CalDavGateway:
    """Talks CalDAV to the calendar collection at the link's URL."""

    def __init__(self, timeout_seconds: float = 10.0, allow_private: bool = False) -> None:
        self.timeout_seconds = timeout_seconds
        self.allow_private = allow_private

    def pull(
        self,
        access: CalendarAccess,
        token: str | None,
        uids_by_href: Mapping[str, str],
        window: Interval,
        zone: tzinfo,
    ) -> PullResult:
        try:
            with self._client(access) as client:
                calendar = client.calendar(url=access.url)  # type: ignore[no-untyped-call]
                found = calendar.get_objects_by_sync_token(sync_token=token, load_objects=True)
                next_token = str(found.sync_token) if found.sync_token else None
                full = token is None or next_token is None or next_token.startswith(_FAKE_TOKEN)
                deleted = {str(url) for url in found.deleted_urls}
                hrefs = {} if full else dict(uids_by_href)
                busy: dict[str, tuple[Interval, ...]] = {}
                removed: set[str] = set()
                for resource in found.objects:
                    href = str(resource.url.canonical())
                    data = None if href in deleted else resource.data
                    if not data:
                        if href in hrefs:
                            removed.add(hrefs.pop(href))
                        continue
                    parsed = Calendar.from_ical(data)
                    uid = _uid(parsed)
                    if uid is None:
                        continue
                    previous = hrefs.get(href)
                    if previous is not None and previous != uid:
                        removed.add(previous)
                    hrefs[href] = uid
                    busy[uid] = _busy_times(parsed, window, zone)
        except (caldav_error.DAVError, OSError, ValueError) as error:
            raise CalendarUnavailable(_describe(error)) from None
        if next_token is not None and next_token.startswith(_FAKE_TOKEN):
            next_token = None  # a made-up token: next time try a real sync from scratch
        return PullResult(
            Pulled(full=full, busy=busy, removed=frozenset(removed - set(busy))),
            next_token,
            hrefs,
        )

    def write(self, access: CalendarAccess, entry: BookingEntry) -> None:
        body = _booking_event(entry)
        self._send(access, "PUT", entry.uid, body)

    def remove(self, access: CalendarAccess, uid: str) -> None:
        self._send(access, "DELETE", uid, "")

    def _send(self, access: CalendarAccess, method: str, uid: str, body: str) -> None:
        url = f"{access.url.rstrip('/')}/{quote(uid, safe='@-_.')}.ics"
        try:
            with self._client(access) as client:
                if method == "PUT":
                    headers = {"Content-Type": "text/calendar; charset=utf-8"}
                    response = client.put(url, body, headers)
                else:
                    response = client.delete(url)
        except (caldav_error.DAVError, OSError, ValueError) as error:
            raise CalendarUnavailable(_describe(error)) from None
        status = int(response.status)
        if method == "DELETE" and status == 404:
            return
        if status >= 300:
            raise CalendarUnavailable(f"{method} answered {status} {response.reason}")

    def _client(self, access: CalendarAccess) -> DAVClient:
        try:  # again at every call: what a name resolves to can change
            check_address(access.url, self.allow_private)
        except CalendarAddressRefused as refused:
            raise CalendarUnavailable(str(refused)) from None
        return DAVClient(
            url=access.url,
            username=access.username,
            password=access.password,
            timeout=int(self.timeout_seconds),
        )


def _describe(error: Exception) -> str:
    """The error's kind and message, without anything of the request (no credentials:
    ``caldav`` errors name the URL and the server's reason only)."""
    return f"{type(error).__name__}: {str(error).strip()[:300]}"


def _uid(calendar: Calendar) -> str | None:
    for component in calendar.walk("VEVENT"):
        uid = component.get("UID")
        if uid:
            return str(uid)
    return None


def _busy_times(calendar: Calendar, window: Interval, zone: tzinfo) -> tuple[Interval, ...]:
    """The times the event's occurrences within ``window`` make busy: not transparent,
    not cancelled; recurrences expanded."""
    occurrences: Iterable[Any] = recurring_ical_events.of(calendar).between(
        window.start, window.end
    )
    busy: list[Interval] = []
    for occurrence in occurrences:
        if str(occurrence.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
            continue
        if str(occurrence.get("STATUS", "")).upper() == "CANCELLED":
            continue
        start = _instant(occurrence["DTSTART"].dt, zone)
        if "DTEND" in occurrence:
            end = _instant(occurrence["DTEND"].dt, zone)
        elif "DURATION" in occurrence:
            end = start + occurrence["DURATION"].dt
        else:
            end = start + (timedelta(days=1) if _all_day(occurrence["DTSTART"].dt) else timedelta())
        if end > start:
            busy.append(Interval(start, end))
    return tuple(busy)


def _all_day(value: date | datetime) -> bool:
    return not isinstance(value, datetime)


def _instant(value: date | datetime, zone: tzinfo) -> datetime:
    if not isinstance(value, datetime):
        return datetime.combine(value, time(), zone)
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


def _booking_event(entry: BookingEntry) -> str:
    calendar = Calendar()
    calendar.add("prodid", "-//Slotline//Calendar sync//EN")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", entry.uid)
    event.add("dtstamp", entry.stamp)
    event.add("dtstart", entry.slot.start)
    event.add("dtend", entry.slot.end)
    event.add("summary", entry.summary)
    event.add("sequence", entry.sequence)
    event.add("status", "CONFIRMED")
    event.add("transp", "OPAQUE")
    calendar.add_component(event)
    ics: bytes = calendar.to_ical()
    return ics.decode()
