"""Where a calendar link may point: public addresses only, unless the operator allows
private ones (``SLOTLINE_CALENDAR_ALLOW_PRIVATE_ADDRESSES``: a calendar server on the
local network; tests). A manager must not make the service call loopback, the cloud's
metadata address or the cluster's own services (server-side request forgery)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class CalendarAddressRefused(ValueError):
    """The link's URL names an address the service may not call."""


def check_address(url: str, allow_private: bool) -> None:
    """Refuse a URL whose host is (or resolves to) a non-public address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CalendarAddressRefused("the calendar URL must be http(s) with a host")
    if allow_private:
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise CalendarAddressRefused(
            f"the calendar host {parts.hostname!r} does not resolve"
        ) from None
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if not address.is_global:
            raise CalendarAddressRefused(
                f"the calendar host {parts.hostname!r} is a private, loopback or link-local"
                f" address ({address}); set SLOTLINE_CALENDAR_ALLOW_PRIVATE_ADDRESSES to allow"
            )
