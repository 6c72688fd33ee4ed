"""The booking intent a text-back link carries into a WhatsApp conversation.

A WhatsApp text-back links to ``https://wa.me/<business>?text=…`` with a prefilled
message that ends in a marker the customer sends back unchanged::

    #book service=<service_id> location=<location_id> slot=<ISO 8601 start with offset>
          [staff=<staff_id>] [call=<call_id>]

Keys may come in any order; values contain no spaces. A message with a complete,
valid marker becomes a ``BookingRequested``; anything else is a lead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

_MARKER = re.compile(r"#book\b(?P<pairs>(?:\s+[a-z_]+=\S+)+)", re.IGNORECASE)
_PAIR = re.compile(r"([a-z_]+)=(\S+)", re.IGNORECASE)


@dataclass(frozen=True)
class BookingIntent:
    service_id: str
    location_id: str
    slot_start: datetime
    staff_id: str | None = None
    call_id: str | None = None

    def marker(self) -> str:
        parts = [
            "#book",
            f"service={self.service_id}",
            f"location={self.location_id}",
            f"slot={self.slot_start.isoformat()}",
        ]
        if self.staff_id:
            parts.append(f"staff={self.staff_id}")
        if self.call_id:
            parts.append(f"call={self.call_id}")
        return " ".join(parts)

    def whatsapp_link(self, business_number: str, greeting: str = "Hi, I'd like to book") -> str:
        """The ``wa.me`` link whose prefilled text carries this intent."""
        text = f"{greeting} {self.marker()}"
        return f"https://wa.me/{business_number.lstrip('+')}?text={quote(text)}"


def parse_intent(text: str | None) -> BookingIntent | None:
    """The intent in a message, or None when there is none or it is incomplete."""
    match = _MARKER.search(text or "")
    if match is None:
        return None
    pairs = {k.lower(): v for k, v in _PAIR.findall(match.group("pairs"))}
    try:
        start = datetime.fromisoformat(pairs["slot"])
        service, location = pairs["service"], pairs["location"]
    except (KeyError, ValueError):
        return None
    if start.tzinfo is None or len(service) > 128 or len(location) > 128:
        return None
    return BookingIntent(service, location, start, pairs.get("staff"), pairs.get("call"))
