"""A local Google Calendar (API v3) for tests and ``make run``: the requests the adapter
makes, answered in the documented shapes, over an ``httpx`` transport.

``events.list`` (full or from a ``syncToken``, paged, ``iCalUID`` look-up, a ``410`` with
reason ``fullSyncRequired`` for a token it no longer knows), ``events.insert`` (an
owner's own event), ``events.import`` (create or update by ``iCalUID``) and
``events.delete`` (the event stays, ``status: cancelled``, as the sync shows it; a
second delete is ``410``). Requests need ``Authorization: Bearer <token>`` with a token
the simulated token endpoint (``POST https://oauth2.googleapis.com/token``,
:mod:`.oauth_simulator`) issued and has not expired; otherwise ``401``.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from slotline.availability.calendar_sync.oauth_simulator import SimulatedTokenEndpoint

BASE = "https://www.googleapis.com/calendar/v3/calendars/"
_PATH = re.compile(r"^/calendar/v3/calendars/(?P<cal>[^/]+)/events(?:/(?P<rest>[^/]+))?$")


@dataclass
class _Calendar:
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    changed_at: dict[str, int] = field(default_factory=dict)


TOKEN_HOST = "oauth2.googleapis.com"  # noqa: S105 — a host name
CLIENT_ID, CLIENT_SECRET = "slotline-test.apps.googleusercontent.com", "GOCSPX-simulated-secret"


class GoogleCalendarSimulator:
    def __init__(
        self, access_token: str, page_size: int = 2, refresh_token: str | None = None
    ) -> None:
        self.auth = SimulatedTokenEndpoint(
            access_token,
            refresh_token,
            CLIENT_ID,
            CLIENT_SECRET,
            rotates_refresh_tokens=False,  # Google keeps the refresh token
            token_prefix="ya29.",  # noqa: S106 — how Google access tokens begin
        )
        self.page_size = page_size
        self.calendars: dict[str, _Calendar] = {}
        self.version = 0
        self.oldest_valid = 0  # tokens older than this are expired (410)
        self.transport = httpx.MockTransport(self.handle)

    def calendar_url(self, calendar_id: str) -> str:
        self.calendars.setdefault(calendar_id, _Calendar())
        return f"{BASE}{calendar_id}"

    def expire_tokens(self) -> None:
        self.oldest_valid = self.version + 1

    def live_events(self, calendar_id: str) -> list[dict[str, Any]]:
        events = self.calendars[calendar_id].events.values()
        return [e for e in events if e["status"] != "cancelled"]

    # --- HTTP ---------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == TOKEN_HOST and request.url.path == "/token":
            return self.auth.handle(request)
        if not self.auth.signed_in(request):
            return _error(401, "Request had invalid authentication credentials.", "authError")
        match = _PATH.match(request.url.path)
        if match is None or match["cal"] not in self.calendars:
            return _error(404, "Not Found", "notFound")
        calendar = self.calendars[match["cal"]]
        rest = match["rest"]
        if request.method == "GET" and rest is None:
            return self._list(calendar, dict(request.url.params))
        if request.method == "POST" and rest is None:
            return self._store(calendar, json.loads(request.content), None)
        if request.method == "POST" and rest == "import":
            body = json.loads(request.content)
            same = [e for e in calendar.events.values() if e["iCalUID"] == body.get("iCalUID")]
            if not body.get("iCalUID"):
                return _error(400, "Missing iCalUID.", "required")
            return self._store(calendar, body, same[0]["id"] if same else None)
        if request.method == "DELETE" and rest is not None:
            event = calendar.events.get(rest)
            if event is None:
                return _error(404, "Not Found", "notFound")
            if event["status"] == "cancelled":
                return _error(410, "Resource has been deleted", "deleted")
            event["status"] = "cancelled"
            self._touch(calendar, rest)
            return httpx.Response(204)
        return _error(405, "Method not allowed", "methodNotAllowed")

    def _store(
        self, calendar: _Calendar, body: dict[str, Any], event_id: str | None
    ) -> httpx.Response:
        event_id = event_id or uuid.uuid4().hex
        event = {
            "kind": "calendar#event",
            "id": event_id,
            "status": body.get("status", "confirmed"),
            "iCalUID": body.get("iCalUID") or f"{event_id}@google.com",
            "summary": body.get("summary", ""),
            "start": body["start"],
            "end": body["end"],
            "sequence": body.get("sequence", 0),
            "transparency": body.get("transparency", "opaque"),
        }
        calendar.events[event_id] = event
        self._touch(calendar, event_id)
        return httpx.Response(200, json=event)

    def _touch(self, calendar: _Calendar, event_id: str) -> None:
        self.version += 1
        calendar.changed_at[event_id] = self.version

    def _list(self, calendar: _Calendar, params: dict[str, str]) -> httpx.Response:
        if "iCalUID" in params:
            items = [
                e
                for e in calendar.events.values()
                if e["iCalUID"] == params["iCalUID"] and e["status"] != "cancelled"
            ]
            return httpx.Response(200, json={"kind": "calendar#events", "items": items})
        token = params.get("syncToken")
        if token is not None:
            since = int(token.removeprefix("sync-")) if token.startswith("sync-") else -1
            if since < self.oldest_valid:
                return _error(
                    410,
                    "Sync token is no longer valid, a full sync is required.",
                    "fullSyncRequired",
                )
            ids = [i for i, at in calendar.changed_at.items() if at > since]
            items = [calendar.events[i] for i in ids]  # cancelled ones too
        else:
            items = [e for e in calendar.events.values() if e["status"] != "cancelled"]
        offset = int(params.get("pageToken", "0"))
        page = items[offset : offset + self.page_size]
        body: dict[str, Any] = {"kind": "calendar#events", "items": page}
        if offset + self.page_size < len(items):
            body["nextPageToken"] = str(offset + self.page_size)
        else:
            body["nextSyncToken"] = f"sync-{self.version}"
        return httpx.Response(200, json=body)


def _error(code: int, message: str, reason: str) -> httpx.Response:
    body = {"error": {"code": code, "message": message, "errors": [{"reason": reason}]}}
    return httpx.Response(code, json=body)
