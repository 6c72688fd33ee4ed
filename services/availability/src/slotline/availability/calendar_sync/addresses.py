"""Where a calendar link may point: public addresses only, unless the operator allows
private ones (``SLOTLINE_CALENDAR_ALLOW_PRIVATE_ADDRESSES``: a calendar server on the
local network; tests). The guard is the one every outbound request configured by a
tenant's user goes through (``slotline.events.outbound``); this says it for calendars."""

from __future__ import annotations

from urllib.parse import urlsplit

from slotline.events.outbound import AddressGuard, UnsafeUrl


class CalendarAddressRefused(ValueError):
    """The link's URL names an address the service may not call."""


GUARD = AddressGuard(allow_private=False, setting="SLOTLINE_CALENDAR_ALLOW_PRIVATE_ADDRESSES")


def check_address(url: str, allow_private: bool) -> None:
    """Refuse a URL whose host is (or resolves to) a non-public address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CalendarAddressRefused("the calendar URL must be http(s) with a host")
    if allow_private:
        return
    try:
        GUARD.check(url)
    except UnsafeUrl as refused:
        raise CalendarAddressRefused(f"the calendar URL is refused: {refused}") from None
