"""Where the services may send a request a tenant's user configured (a webhook endpoint,
a calendar server): public addresses only — never loopback, private, link-local, the
cloud's metadata address or the cluster's own services (server-side request forgery) —
unless the operator allows them by a setting (a receiver on the local network; tests).

One guard for every such caller: the URL's form is checked (:func:`checked_url`), its
host resolved and every address it resolves to must be public (:func:`forbidden_address`).
:meth:`AddressGuard.address_for` gives the checked address, so a caller that connects
to it (not to the name again) is safe from a DNS answer that changes in between.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit


class UnsafeUrl(ValueError):
    """A URL the service may not send a request to (scheme, credentials, address)."""


def checked_url(url: str) -> str:
    """``url`` if it is an absolute http(s) URL with a host and no credentials."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"}:
        raise UnsafeUrl("the URL must start with https:// (or http://)")
    if not parts.hostname:
        raise UnsafeUrl("the URL has no host")
    if parts.username or parts.password:
        raise UnsafeUrl("the URL must not carry credentials (user:password@)")
    if parts.fragment:
        raise UnsafeUrl("the URL must not have a #fragment")
    try:
        parts.port  # noqa: B018 — raises ValueError for a port out of range
    except ValueError as error:
        raise UnsafeUrl(f"the URL's port is invalid: {error}") from None
    return url


def forbidden_address(address: str) -> str | None:
    """Why ``address`` (an IP) is not a public one (loopback, private, link-local, …),
    or None when it is."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for reason, flagged in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("private", ip.is_private),
        ("multicast", ip.is_multicast),
        ("unspecified", ip.is_unspecified),
        ("reserved", ip.is_reserved),
        ("not globally routable", not ip.is_global),
    ):
        if flagged:
            return f"{address} is a {reason} address"
    return None


def _port(url: str) -> int:
    parts = urlsplit(url)
    return parts.port or (443 if parts.scheme == "https" else 80)


@dataclass(frozen=True)
class AddressGuard:
    """The check of one kind of outbound request; ``setting`` names the operator's
    switch that allows private addresses (said in the refusal)."""

    allow_private: bool = False
    setting: str = ""

    def check(self, url: str) -> None:
        """Refuse ``url`` (``UnsafeUrl``) unless it may be sent to (blocking: resolves)."""
        checked_url(url)
        host = urlsplit(url).hostname or ""
        try:
            infos = socket.getaddrinfo(host, _port(url), type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as error:
            raise UnsafeUrl(f"{host} cannot be resolved: {error}") from None
        self._allowed(host, [str(info[4][0]) for info in infos])

    async def address_for(self, url: str) -> str:
        """The address to send ``url``'s request to, checked (``UnsafeUrl`` if none may)."""
        checked_url(url)
        host = urlsplit(url).hostname or ""
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, _port(url), type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as error:
            raise UnsafeUrl(f"{host} cannot be resolved: {error}") from None
        return self._allowed(host, [str(info[4][0]) for info in infos])[0]

    def _allowed(self, host: str, addresses: list[str]) -> list[str]:
        if not addresses:
            raise UnsafeUrl(f"{host} does not resolve to any address")
        if not self.allow_private:
            for address in addresses:
                reason = forbidden_address(address)
                if reason is not None:
                    allow = f"; set {self.setting} to allow it" if self.setting else ""
                    raise UnsafeUrl(f"{host} resolves to {reason}: public addresses only{allow}")
        return addresses
