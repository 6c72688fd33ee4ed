"""The customer's details carried through Stripe's return URL, sealed.

The web keeps no state between the payment step and Stripe's redirect back, so what
the customer typed travels in the return URL — sealed (AES-GCM, ``SecretBox``) with a
key derived from the session secret and bound to the request id, so a name, phone or
e-mail never sits in a URL in clear (browser history, proxy and server logs, Referer),
and a URL edited by hand or made for another request opens nothing.
"""

from __future__ import annotations

import base64
import binascii
import json

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from slotline.events.sealing import SealedValueUnreadable, SecretBox
from slotline.web.domain.details import Details

_PURPOSE = b"slotline-web: details through the payment return URL"


class DetailsUnreadable(ValueError):
    """The sealed details do not open (edited, another request's, another key)."""


class DetailsSealer:
    def __init__(self, session_secret: str) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(
            session_secret.encode()
        )
        self._box = SecretBox(base64.b64encode(key).decode(), "payment return details")

    def seal(self, request_id: str, details: Details) -> str:
        fields = {"name": details.name, "phone": details.phone, "email": details.email}
        plain = json.dumps({**fields, "note": details.note})
        return base64.urlsafe_b64encode(self._box.seal(request_id.encode(), plain)).decode()

    def open(self, request_id: str, sealed: str) -> Details:
        try:
            raw = base64.urlsafe_b64decode(sealed.encode())
            fields = json.loads(self._box.open(request_id.encode(), raw))
        except (binascii.Error, ValueError, SealedValueUnreadable) as error:
            raise DetailsUnreadable("the booking details in this link do not open") from error
        return Details.of({k: str(v) for k, v in fields.items()})
