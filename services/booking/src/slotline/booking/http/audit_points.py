"""What booking's staff routes put on the audit trail (issue 17 item 10): who read or
changed which customer, booking, policy or waiting list — one record per request, with
the user id the token names (``slotline.events.audit``)."""

from __future__ import annotations

from fastapi import Depends, Request

from slotline.events.audit import audited, fingerprint
from slotline.events.contract.audit import AccessKind

CHANGE = AccessKind.CHANGE


def _looked_up(request: Request) -> str:
    """A lookup by phone or e-mail is kept as a digest of what was searched, not the text."""
    query = request.query_params
    return fingerprint(query.get("phone") or query.get("email") or query.get("q") or "")


def _day_sheet(request: Request) -> str:
    query = request.query_params
    return query.get("customer_id") or f"{query.get('start', '')}..{query.get('end', '')}"


BOOKING_READ = Depends(audited("booking", "booking_id"))
BOOKING_CHANGE = Depends(audited("booking", "booking_id", CHANGE))
BOOKING_BY_REFERENCE = Depends(audited("booking", "reference"))
DAY_SHEET = Depends(audited("day_sheet", _day_sheet))
CUSTOMER_READ = Depends(audited("customer", "customer_id"))
CUSTOMER_CHANGE = Depends(audited("customer", "customer_id", CHANGE))
CUSTOMER_LOOKUP = Depends(audited("customer", _looked_up))
POLICY_READ = Depends(audited("policy", "tier"))
POLICY_CHANGE = Depends(audited("policy", "tier", CHANGE))
WAITLIST_READ = Depends(audited("waitlist", lambda request: "all"))
