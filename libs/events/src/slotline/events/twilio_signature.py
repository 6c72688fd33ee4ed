"""``X-Twilio-Signature``: HMAC-SHA1 of the URL called plus the sorted POST parameters.

One implementation for every webhook signed this way: call-intake's voice and SMS
webhooks, and the notifier's delivery-status callbacks (and its local provider simulator,
which signs like Twilio). Twilio's own validator ships only inside its whole SDK.

The string signed is the full URL Twilio requested (query string included) followed by
each POST parameter's name and value, sorted by name (repeated names by value), keyed
with the account's auth token, base64-encoded. Twilio may have signed the URL with or
without its default port (``:443`` / ``:80``), so both are accepted. Comparison is in
constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit, urlunsplit

DEFAULT_PORTS = {"https": 443, "http": 80}


def twilio_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """The signature Twilio sends for a request to ``url`` with ``params``."""
    signed = url
    by_name: dict[str, list[str]] = {}
    for name, value in params:
        by_name.setdefault(name, []).append(value)
    for name in sorted(by_name):
        for value in sorted(by_name[name]):
            signed += name + value
    digest = hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def url_forms(url: str) -> list[str]:
    """``url`` as given, and with its default port added or removed."""
    parts = urlsplit(url)
    default = DEFAULT_PORTS.get(parts.scheme)
    forms = [url]
    if default is None or parts.hostname is None:
        return forms
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    userinfo = parts.netloc.rpartition("@")[0]
    prefix = f"{userinfo}@" if userinfo else ""
    if parts.port is None:
        forms.append(urlunsplit(parts._replace(netloc=f"{prefix}{host}:{default}")))
    elif parts.port == default:
        forms.append(urlunsplit(parts._replace(netloc=f"{prefix}{host}")))
    return forms


def signature_is_valid(
    auth_token: str, url: str, params: Sequence[tuple[str, str]], signature: str | None
) -> bool:
    """Whether ``signature`` is Twilio's for this request (any accepted URL form)."""
    if not signature or not auth_token:
        return False
    return any(
        hmac.compare_digest(twilio_signature(auth_token, form, params), signature)
        for form in url_forms(url)
    )
