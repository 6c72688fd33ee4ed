"""A local Microsoft Graph (v1.0 calendars) for tests: the requests the adapter makes,
answered in the documented shapes, over an ``httpx`` transport.

- ``GET …/calendars/{id}/calendarView/delta?startDateTime&endDateTime``: a round of
  pages (``Prefer: odata.maxpagesize``, at most ``page_size``) linked by
  ``@odata.nextLink`` (``$skiptoken``), ending with an ``@odata.deltaLink``
  (``$deltatoken``). From a delta link: the events changed since, an event deleted or
  now outside the round's window as ``{"id", "@removed": {"reason": "deleted"}}``. A
  delta token it no longer knows (:meth:`expire_sync_state`) is ``410 Gone`` with code
  ``syncStateNotFound`` and a ``Location`` to start over. Times in UTC.
- ``GET …/events?$filter=singleValueExtendedProperties/Any(ep: ep/id eq '…' and
  ep/value eq '…')`` (``$select`` honoured), ``POST …/events`` (``201``; a
  ``transactionId`` already used answers with the event it made), ``PATCH`` and
  ``DELETE …/events/{id}`` (``404 ErrorItemNotFound`` for one not there).
- Requests need a bearer token the simulated token endpoint
  (``POST https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token``,
  :mod:`.oauth_simulator`; it rotates refresh tokens) issued and has not expired;
  otherwise ``401 InvalidAuthenticationToken``.

Not simulated: recurring series (a calendar view lists occurrences; the owner's events
here are single instances), attendees, time zones other than UTC and IANA names.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from slotline.availability.calendar_sync.oauth_simulator import SimulatedTokenEndpoint

GRAPH = "https://graph.microsoft.com/v1.0"
LOGIN_HOST = "login.microsoftonline.com"
CLIENT_ID, CLIENT_SECRET = "0d3f9f5e-slotline-test", "simulated~client~secret"
_CALENDAR = re.compile(r"^/v1\.0/(?:me|users/[^/]+)/calendars/(?P<cal>[^/]+)(?P<rest>/.*)?$")
_TOKEN = re.compile(r"^/[^/]+/oauth2/v2\.0/token$")
_FILTER = re.compile(
    r"^singleValueExtendedProperties/Any\(ep: ep/id eq '(?P<id>[^']*)'"
    r" and ep/value eq '(?P<value>(?:[^']|'')*)'\)$"
)
_WRITABLE = ("subject", "start", "end", "showAs", "isAllDay", "isCancelled", "isReminderOn")


@dataclass
class _Calendar:
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    properties: dict[str, dict[str, str]] = field(default_factory=dict)  # event id → {id: value}
    changed_at: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Round:
    """A delta round's state: the calendar, the window and the version it reached."""

    calendar_id: str
    start: datetime
    end: datetime
    version: int


class MicrosoftGraphSimulator:
    def __init__(
        self, access_token: str, page_size: int = 2, refresh_token: str | None = None
    ) -> None:
        self.auth = SimulatedTokenEndpoint(
            access_token, refresh_token, CLIENT_ID, CLIENT_SECRET, rotates_refresh_tokens=True
        )
        self.page_size = page_size
        self.calendars: dict[str, _Calendar] = {}
        self.version = 0
        self.delta_states: dict[str, _Round] = {}
        self.pages: dict[str, tuple[list[dict[str, Any]], str]] = {}  # skiptoken → rest, link
        self.transport = httpx.MockTransport(self.handle)

    def calendar_url(self, calendar_id: str) -> str:
        self.calendars.setdefault(calendar_id, _Calendar())
        return f"{GRAPH}/me/calendars/{calendar_id}"

    def token_url(self, tenant: str = "common") -> str:
        return f"https://{LOGIN_HOST}/{tenant}/oauth2/v2.0/token"

    def expire_sync_state(self) -> None:
        """Every delta token handed out so far is forgotten (as when its cache overflows)."""
        self.delta_states.clear()

    def live_events(self, calendar_id: str) -> list[dict[str, Any]]:
        return list(self.calendars[calendar_id].events.values())

    def uid_of(self, calendar_id: str, event_id: str) -> str | None:
        """The value of the event's extended properties (our booking UID), if any."""
        values = list(self.calendars[calendar_id].properties.get(event_id, {}).values())
        return values[0] if values else None

    # --- the calendar's owner, in Outlook ------------------------------------------------

    def add_event(self, calendar_id: str, start: datetime, end: datetime, **more: Any) -> str:
        """The owner adds an event; its id."""
        calendar = self.calendars[calendar_id]
        body = {"subject": "Dentist", "start": _stamp(start), "end": _stamp(end), **more}
        return str(self._create(calendar, body)["id"])

    def change_event(self, calendar_id: str, event_id: str, **changes: Any) -> None:
        calendar = self.calendars[calendar_id]
        calendar.events[event_id].update(changes)
        self._touch(calendar, event_id)

    def delete_event(self, calendar_id: str, event_id: str) -> None:
        calendar = self.calendars[calendar_id]
        del calendar.events[event_id]
        self._touch(calendar, event_id)

    # --- HTTP ---------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == LOGIN_HOST and _TOKEN.match(request.url.path):
            return self.auth.handle(request)
        if not self.auth.signed_in(request):
            response = _error(
                401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid."
            )
            response.headers["WWW-Authenticate"] = (
                f'Bearer authorization_uri="https://{LOGIN_HOST}/common/oauth2/authorize"'
            )
            return response
        match = _CALENDAR.match(request.url.path)
        if match is None or match["cal"] not in self.calendars:
            return _error(
                404, "ErrorItemNotFound", "The specified object was not found in the store."
            )
        calendar_id, rest = match["cal"], match["rest"] or ""
        calendar = self.calendars[calendar_id]
        params = dict(request.url.params)
        if request.method == "GET" and rest == "/calendarView/delta":
            return self._delta(request, calendar_id, params)
        if rest == "/events" and request.method == "GET":
            if "$skiptoken" in params:
                return self._page(params["$skiptoken"])
            return self._find(request, calendar, params)
        if rest == "/events" and request.method == "POST":
            body = json.loads(request.content)
            if not isinstance(body.get("start"), dict) or not isinstance(body.get("end"), dict):
                return _error(400, "ErrorInvalidRequest", "start and end are required.")
            made = [
                e
                for e in calendar.events.values()
                if body.get("transactionId") and e.get("transactionId") == body["transactionId"]
            ]
            return httpx.Response(201, json=made[0] if made else self._create(calendar, body))
        if rest.startswith("/events/") and request.method in ("PATCH", "DELETE"):
            event_id = rest.removeprefix("/events/")
            if event_id not in calendar.events:
                return _error(
                    404, "ErrorItemNotFound", "The specified object was not found in the store."
                )
            if request.method == "DELETE":
                self.delete_event(calendar_id, event_id)
                return httpx.Response(204)
            body = json.loads(request.content)
            changes = {
                k: _utc(v) if k in ("start", "end") else v
                for k, v in body.items()
                if k in _WRITABLE
            }
            self.change_event(calendar_id, event_id, **changes)
            return httpx.Response(200, json=calendar.events[event_id])
        return _error(405, "ErrorInvalidRequest", "The OData request is not supported.")

    def _create(self, calendar: _Calendar, body: dict[str, Any]) -> dict[str, Any]:
        event_id = f"AAMkAD{uuid.uuid4().hex}="
        event: dict[str, Any] = {
            "@odata.etag": f'W/"{uuid.uuid4().hex}"',
            "id": event_id,
            "iCalUId": f"040000008200E00074C5B7101A82E008{uuid.uuid4().hex.upper()}",
            "subject": body.get("subject", ""),
            "start": _utc(body["start"]),
            "end": _utc(body["end"]),
            "isAllDay": body.get("isAllDay", False),
            "isCancelled": False,
            "showAs": body.get("showAs", "busy"),
            "type": "singleInstance",
            "isReminderOn": body.get("isReminderOn", True),
        }
        if body.get("transactionId"):  # returned only when an app set it
            event["transactionId"] = body["transactionId"]
        calendar.events[event_id] = event
        properties = body.get("singleValueExtendedProperties") or []
        calendar.properties[event_id] = {p["id"]: p["value"] for p in properties}
        self._touch(calendar, event_id)
        return event

    def _touch(self, calendar: _Calendar, event_id: str) -> None:
        self.version += 1
        calendar.changed_at[event_id] = self.version

    def _find(
        self, request: httpx.Request, calendar: _Calendar, params: dict[str, str]
    ) -> httpx.Response:
        match = _FILTER.match(params.get("$filter", ""))
        if match is None:
            return _error(400, "ErrorInvalidUrlQueryFilter", "The filter is not supported here.")
        wanted_id, wanted = match["id"], match["value"].replace("''", "'").lower()
        found = [
            event
            for event_id, event in calendar.events.items()
            if calendar.properties.get(event_id, {}).get(wanted_id, "").lower() == wanted
        ]
        if params.get("$select") == "id":
            found = [{"@odata.etag": e["@odata.etag"], "id": e["id"]} for e in found]
        base = str(request.url.copy_with(query=None))
        return self._paged(found, base, None, self.page_size)

    def _delta(
        self, request: httpx.Request, calendar_id: str, params: dict[str, str]
    ) -> httpx.Response:
        base = str(request.url.copy_with(query=None))
        size = min(self.page_size, _max_page_size(request))
        if "$skiptoken" in params:
            return self._page(params["$skiptoken"])
        if "$deltatoken" in params:
            state = self.delta_states.get(params["$deltatoken"])
            if state is None or state.calendar_id != calendar_id:
                response = _error(
                    410, "syncStateNotFound", "The sync state is not found; start over."
                )
                response.headers["Location"] = base
                return response
            calendar = self.calendars[calendar_id]
            items = [
                self._as_changed(calendar, event_id, state)
                for event_id, at in sorted(calendar.changed_at.items(), key=lambda kv: kv[1])
                if at > state.version
            ]
            window = (state.start, state.end)
        else:
            try:
                window = (_moment(params["startDateTime"]), _moment(params["endDateTime"]))
            except (KeyError, ValueError):
                return _error(
                    400, "ErrorInvalidParameter", "startDateTime and endDateTime are required."
                )
            calendar = self.calendars[calendar_id]
            items = [e for e in calendar.events.values() if _within(e, *window)]
        token = uuid.uuid4().hex
        self.delta_states[token] = _Round(calendar_id, *window, self.version)
        return self._paged(items, base, f"{base}?$deltatoken={token}", size)

    def _as_changed(self, calendar: _Calendar, event_id: str, state: _Round) -> dict[str, Any]:
        event = calendar.events.get(event_id)
        if event is None or not _within(event, state.start, state.end):
            return {
                "@odata.type": "#microsoft.graph.event",
                "id": event_id,
                "@removed": {"reason": "deleted"},
            }
        return event

    def _paged(
        self, items: list[dict[str, Any]], base: str, last_link: str | None, size: int
    ) -> httpx.Response:
        """A page of ``items``; the rest waits under a skiptoken; the last page carries
        ``last_link`` as its deltaLink (none for a plain listing)."""
        page, rest = items[:size], items[size:]
        body: dict[str, Any] = {"value": page}
        if rest:
            skip = uuid.uuid4().hex
            self.pages[skip] = (rest, json.dumps([base, last_link, size]))
            body["@odata.nextLink"] = f"{base}?$skiptoken={skip}"
        elif last_link is not None:
            body["@odata.deltaLink"] = last_link
        return httpx.Response(200, json=body)

    def _page(self, skiptoken: str) -> httpx.Response:
        if skiptoken not in self.pages:
            return _error(400, "ErrorInvalidParameter", "The skip token is not valid.")
        rest, state = self.pages.pop(skiptoken)
        base, last_link, size = json.loads(state)
        return self._paged(rest, base, last_link, size)


def _max_page_size(request: httpx.Request) -> int:
    found = re.search(r"odata\.maxpagesize=(\d+)", request.headers.get("Prefer", ""))
    return int(found.group(1)) if found else 10


def _stamp(moment: datetime) -> dict[str, str]:
    return {"dateTime": moment.astimezone(UTC).replace(tzinfo=None).isoformat(), "timeZone": "UTC"}


def _utc(value: dict[str, str]) -> dict[str, str]:
    """A dateTimeTimeZone as Graph answers it by default: in UTC, seven fraction digits."""
    moment = datetime.fromisoformat(value["dateTime"])
    zone = value.get("timeZone", "UTC")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC if zone == "UTC" else ZoneInfo(zone))
    wall = moment.astimezone(UTC).replace(tzinfo=None)
    return {"dateTime": wall.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _within(event: dict[str, Any], start: datetime, end: datetime) -> bool:
    begins = _moment(event["start"]["dateTime"])
    ends = _moment(event["end"]["dateTime"])
    if event.get("isAllDay"):
        ends = max(ends, begins + timedelta(days=1))
    return begins < end and ends > start


def _error(status: int, code: str, message: str) -> httpx.Response:
    body = {
        "error": {"code": code, "message": message, "innerError": {"request-id": str(uuid.uuid4())}}
    }
    return httpx.Response(status, json=body)
