"""Webhook signatures the way Twilio makes them: HMAC-SHA1 over URL + sorted params.

``X-Twilio-Signature`` = base64(HMAC-SHA1(auth token, full URL + each POST parameter's
name and value, sorted by name)). See Twilio's "Webhooks security" documentation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence


def twilio_signature(auth_token: str, url: str, params: Sequence[tuple[str, str]]) -> str:
    data = url + "".join(f"{name}{value}" for name, value in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signature_valid(
    auth_token: str, url: str, params: Sequence[tuple[str, str]], signature: str | None
) -> bool:
    if not signature:
        return False
    return hmac.compare_digest(twilio_signature(auth_token, url, params), signature)
