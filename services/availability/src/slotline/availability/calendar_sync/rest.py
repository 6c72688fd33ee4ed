"""What the Google and Microsoft 365 adapters share: both are JSON over HTTPS with an
OAuth bearer token, list a calendar's changes page by page from a sync token, and find
our booking's event by its UID.

- :class:`BearerSession`: one adapter call's requests — the access token on each,
  renewed (:mod:`.oauth`) when it has expired or a request answers ``401`` (once per
  call), the new grant handed to :attr:`CalendarAccess.keep` first; every URL held to
  the link's host (a page or sync link from the server included); failures as
  :class:`CalendarUnavailable` with the server's reason and never the request (it
  carries the token).
- :class:`RestCalendarGateway`: the pull (changes from the token; an expired token
  lists the calendar again; the changes as a :class:`PullResult`) and the removal
  (delete every event found by UID; already gone is fine), over the four things a
  provider says its own way: :meth:`~RestCalendarGateway.changes`,
  :meth:`~RestCalendarGateway.change`, :meth:`~RestCalendarGateway.find` and ``write``.
- :func:`read_pages`, :func:`busy_between`, :func:`day_start`: the rules both use.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from slotline.availability.calendar_sync.addresses import CalendarAddressRefused, check_address
from slotline.availability.calendar_sync.oauth import OAuthClient, OAuthGrant
from slotline.availability.calendar_sync.port import (
    BookingEntry,
    CalendarAccess,
    CalendarUnavailable,
    PullResult,
)
from slotline.availability.domain.calendar_sync import Pulled
from slotline.availability.domain.values import Interval

MAX_PAGES = 500
"""A listing longer than this many pages is refused (a server that never ends it)."""

Item = Mapping[str, Any]


class SyncTokenExpired(Exception):
    """The server no longer knows the sync token: list the calendar again."""


@dataclass(frozen=True)
class Change:
    """One event as a listing reports it: its id and busy times, or deleted (``None``)."""

    event_id: str
    busy: tuple[Interval, ...] | None


class BearerSession:
    """The requests of one adapter call, signed in with the link's OAuth grant."""

    def __init__(
        self,
        access: CalendarAccess,
        client: httpx.Client,
        oauth: OAuthClient | None,
        clock: Callable[[], datetime],
        settings_hint: str,
    ) -> None:
        self.access = access
        self.client = client
        self.oauth = oauth
        self.clock = clock
        self.settings_hint = settings_hint
        self.grant = OAuthGrant.of(access.password)
        self.refreshed = False
        self._origin = _origin(access.url)

    def json(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        response = self.call(method, url, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise CalendarUnavailable(f"{method} answered {response.status_code} without JSON")
        return body

    def call(
        self,
        method: str,
        url: str,
        *,
        gone_is_fine: bool = False,
        expired: Callable[[httpx.Response], bool] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send; a ``401`` renews the token and sends again (once per call); ``expired``
        says whether an answer means the sync token is gone (:class:`SyncTokenExpired`);
        with ``gone_is_fine`` a ``404``/``410`` is an answer, not a failure."""
        if _origin(url) != self._origin:
            raise CalendarUnavailable("the calendar answered with a link to another host: refused")
        if not self.grant.usable(self.clock()) and self.grant.refresh_token:
            self._refresh()
        response = self._send(method, url, **kwargs)
        if response.status_code == 401 and not self.refreshed and self.grant.refresh_token:
            self._refresh()
            response = self._send(method, url, **kwargs)
        if expired is not None and expired(response):
            raise SyncTokenExpired
        if gone_is_fine and response.status_code in (404, 410):
            return response
        if response.status_code >= 300:
            hint = ""
            if response.status_code == 401 and not self.grant.refresh_token:
                hint = " (the link has no refresh token: re-link it with one)"
            raise CalendarUnavailable(
                f"{method} answered {response.status_code}: {error_reason(response)}{hint}"
            )
        return response

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {
            **kwargs.pop("headers", {}),
            "Authorization": f"Bearer {self.grant.access_token}",
        }
        try:
            return self.client.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as error:
            raise CalendarUnavailable(f"{type(error).__name__}: {error}") from None

    def _refresh(self) -> None:
        if self.oauth is None:
            raise CalendarUnavailable(
                "the access token expired and no OAuth client is configured to renew it"
                f" ({self.settings_hint})"
            )
        self.grant = self.oauth.refresh(self.client, self.grant, self.clock())
        self.refreshed = True
        if self.access.keep is not None:
            self.access.keep(self.grant.sealable())


class RestCalendarGateway(ABC):
    """A :class:`~.port.CalendarGateway` over a calendar's JSON API (Google, Microsoft)."""

    settings_hint: ClassVar[str]
    """The settings naming this provider's OAuth client (for the error without one)."""

    def __init__(
        self,
        timeout_seconds: float = 10.0,
        allow_private: bool = False,
        transport: httpx.BaseTransport | None = None,
        oauth: OAuthClient | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.timeout_seconds = timeout_seconds
        self.allow_private = allow_private
        self.transport = transport
        self.oauth = oauth
        self.clock = clock

    @contextmanager
    def session(self, access: CalendarAccess) -> Iterator[BearerSession]:
        try:  # again at every call: what a name resolves to can change
            check_address(access.url, self.allow_private)
        except CalendarAddressRefused as refused:
            raise CalendarUnavailable(str(refused)) from None
        with httpx.Client(timeout=self.timeout_seconds, transport=self.transport) as client:
            yield BearerSession(access, client, self.oauth, self.clock, self.settings_hint)

    def pull(
        self,
        access: CalendarAccess,
        token: str | None,
        uids_by_href: Mapping[str, str],
        window: Interval,
        zone: tzinfo,
    ) -> PullResult:
        with self.session(access) as session:
            try:
                items, next_token = self.changes(session, access.url, token, window)
                full = token is None
            except SyncTokenExpired:
                items, next_token = self.changes(session, access.url, None, window)
                full = True
        changes = (self.change(item, window, zone) for item in items)
        return pull_result(changes, full, next_token, uids_by_href)

    def remove(self, access: CalendarAccess, uid: str) -> None:
        with self.session(access) as session:
            for url in self.find(session, access.url, uid):
                session.call("DELETE", url, gone_is_fine=True)

    @abstractmethod
    def write(self, access: CalendarAccess, entry: BookingEntry) -> None:
        """Create or update the booking's event, never a second one."""

    @abstractmethod
    def changes(
        self, session: BearerSession, url: str, token: str | None, window: Interval
    ) -> tuple[list[Item], str | None]:
        """The items changed since ``token`` (all when ``None``) and the next token;
        :class:`SyncTokenExpired` when the server no longer knows ``token``."""

    @abstractmethod
    def change(self, item: Item, window: Interval, zone: tzinfo) -> Change | None:
        """What one listed item means (``None``: not an event of the owner's, skipped)."""

    @abstractmethod
    def find(self, session: BearerSession, url: str, uid: str) -> list[str]:
        """The URLs of the calendar's events carrying our booking's ``uid``."""


def pull_result(
    changes: Iterable[Change | None], full: bool, token: str | None, known: Mapping[str, str]
) -> PullResult:
    """The pull's outcome from the changes in the order listed (an event listed twice
    counts as last listed); events are known by their id (``uids_by_href`` maps it to
    itself), those deleted forgotten."""
    busy: dict[str, tuple[Interval, ...]] = {}
    removed: set[str] = set()
    for change in changes:
        if change is None:
            continue
        if change.busy is None:
            busy.pop(change.event_id, None)
            removed.add(change.event_id)
        else:
            removed.discard(change.event_id)
            busy[change.event_id] = change.busy
    ids = {event_id: event_id for event_id in busy}
    if not full:
        ids = {**{k: v for k, v in known.items() if v not in removed}, **ids}
    return PullResult(Pulled(full=full, busy=busy, removed=frozenset(removed)), token, ids)


def read_pages(
    fetch: Callable[[str | None], Item],
    next_of: Callable[[Item], str | None],
    items_key: str,
) -> tuple[list[Item], Item]:
    """Every item of a paged listing (``fetch(None)`` the first page, ``fetch(cursor)``
    the next while ``next_of`` gives one) and its last page, which holds the sync token."""
    items: list[Item] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = fetch(cursor)
        listed = page.get(items_key, [])
        items.extend(item for item in listed if isinstance(item, Mapping))
        cursor = next_of(page)
        if cursor is None:
            return items, page
    raise CalendarUnavailable(f"the listing did not end after {MAX_PAGES} pages")


def busy_between(
    start: datetime | None, end: datetime | None, window: Interval
) -> tuple[Interval, ...]:
    """The busy time from ``start`` to ``end`` if it is one and meets ``window``."""
    if start is None or end is None or end <= start:
        return ()
    interval = Interval(start, end)
    return (interval,) if interval.overlaps(window) else ()


def day_start(day: date, zone: tzinfo) -> datetime:
    """An all-day event's bound: the start of that day in the location's zone."""
    return datetime.combine(day, time(), zone)


def text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def error_reason(response: httpx.Response) -> str:
    """The server's own message (Google's and Graph's ``{"error": {"message", "code"}}``),
    never the request: it carries the token."""
    try:
        error = response.json()["error"]
        message = str(error["message"])[:200]
    except (ValueError, KeyError, TypeError):
        return response.reason_phrase
    code = error.get("code")
    return f"{code}: {message}" if isinstance(code, str) and code else message


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port
