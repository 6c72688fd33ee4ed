"""The SSRF guard: a webhook URL's host is resolved, and every address it resolves to
must be public (not loopback, private, link-local, …) unless the operator allows them
(``SLOTLINE_WEBHOOK_ALLOW_PRIVATE_ADDRESSES``, for a receiver on the local network and
for tests). Checked when a subscription is made or changed, and again before every
attempt — where the request then goes to the very address that was checked, so a DNS
answer that changes in between (rebinding) cannot lead it elsewhere."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from slotline.notifier.domain.webhooks import UnsafeUrl, checked_url, forbidden_address


def _port(url: str) -> int:
    parts = urlsplit(url)
    return parts.port or (443 if parts.scheme == "https" else 80)


def _allowed(host: str, addresses: list[str], allow_private: bool) -> list[str]:
    if not addresses:
        raise UnsafeUrl(f"{host} does not resolve to any address")
    if not allow_private:
        for address in addresses:
            reason = forbidden_address(address)
            if reason is not None:
                raise UnsafeUrl(f"{host} resolves to {reason}; webhooks go to public addresses")
    return addresses


@dataclass(frozen=True)
class AddressGuard:
    allow_private: bool = False

    def check(self, url: str) -> None:
        """Refuse ``url`` (``UnsafeUrl``) unless it may be sent to (blocking: resolves)."""
        checked_url(url)
        host = urlsplit(url).hostname or ""
        try:
            infos = socket.getaddrinfo(host, _port(url), type=socket.SOCK_STREAM)
        except socket.gaierror as error:
            raise UnsafeUrl(f"{host} cannot be resolved: {error.strerror}") from None
        _allowed(host, [str(info[4][0]) for info in infos], self.allow_private)

    async def address_for(self, url: str) -> str:
        """The address to send ``url``'s request to, checked (``UnsafeUrl`` if none may)."""
        checked_url(url)
        host = urlsplit(url).hostname or ""
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, _port(url), type=socket.SOCK_STREAM)
        except socket.gaierror as error:
            raise UnsafeUrl(f"{host} cannot be resolved: {error.strerror}") from None
        return _allowed(host, [str(info[4][0]) for info in infos], self.allow_private)[0]
