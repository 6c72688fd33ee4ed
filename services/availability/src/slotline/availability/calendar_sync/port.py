"""The port to an external calendar: what a pull reads and what a push writes.

Adapters (CalDAV, Google, Microsoft 365) implement :class:`CalendarGateway`; every call
blocks and raises :class:`CalendarUnavailable` with a message fit for logs and the link's
health (no credentials in it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Protocol

from slotline.availability.domain.calendar_sync import Pulled
from slotline.availability.domain.values import Interval


class CalendarUnavailable(Exception):
    """The calendar could not be read or written (network, authentication, server)."""


@dataclass(frozen=True)
class CalendarAccess:
    """Where a calendar is and how to sign in (the password decrypted only for the call).

    ``password`` is the link's credential: a CalDAV password, or an OAuth grant
    (:class:`~.oauth.OAuthGrant`, as JSON) for Google and Microsoft. An adapter that
    renews it (an OAuth refresh) hands the new credential to ``keep`` before using it,
    which stores it sealed for the link's next calls; ``None``: it lives for this call.
    """

    url: str
    username: str
    password: str = field(repr=False)
    keep: Callable[[str], None] | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class PullResult:
    """One pull: its changes, the token to start the next from (``None``: list it whole
    next time) and which resource (href) holds which event UID now, so a deletion
    reported by href names the UID whose blocks go."""

    pulled: Pulled
    token: str | None
    uids_by_href: Mapping[str, str]


@dataclass(frozen=True)
class BookingEntry:
    """A booking as an event of the calendar: ``sequence`` rises with every change."""

    uid: str
    summary: str
    slot: Interval
    sequence: int
    stamp: datetime


class CalendarGateway(Protocol):
    def pull(
        self,
        access: CalendarAccess,
        token: str | None,
        uids_by_href: Mapping[str, str],
        window: Interval,
        zone: tzinfo,
    ) -> PullResult:
        """The busy times changed since ``token`` (all of them when ``None`` or expired),
        expanded within ``window``; all-day events are days of ``zone``."""
        ...

    def write(self, access: CalendarAccess, entry: BookingEntry) -> None:
        """Create or overwrite the booking's event (same UID, same resource)."""
        ...

    def remove(self, access: CalendarAccess, uid: str) -> None:
        """Delete the booking's event; one already gone is fine."""
        ...
