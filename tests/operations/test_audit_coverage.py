"""Issue 17 item 10: every route a signed-in user calls is on the audit trail, in every
service — a new route that forgets it fails here. Routes read from each service's app as
it is built (no database needed to list them)."""

from __future__ import annotations

import importlib

import pytest

from slotline.events.runtime import build_http_app
from slotline.events.testing.routes import api_routes, dependency_names

pytestmark = pytest.mark.unit

SERVICES = {
    "availability": "slotline.availability.wiring",
    "booking": "slotline.booking.wiring",
    "payments": "slotline.payments.wiring",
    "notifier": "slotline.notifier.wiring",
    "call-intake": "slotline.call_intake.wiring",
    "analytics": "slotline.analytics.wiring",
}
UNAUDITED = {
    "/v1/audit": "the trail itself (owners only)",
    "/v1/slots": "free slots: what every customer sees",
    "/v1/slots/stream": "free slots, live",
    "/v1/holds": "holds carry no person; channels and the saga place them",
    "/v1/holds/{hold_id}": "a hold: no person",
    "/v1/holds/{hold_id}/confirm": "a hold: no person",
    "/v1/holds/{hold_id}/release": "a hold: no person",
    "/v1/holds/{hold_id}/cancel": "a hold: no person",
    "/v1/holds/{hold_id}/reschedule": "a hold: no person",
    "/v1/bookings": "POST: a booking request (its outcome is the record); GET is audited",
    "/v1/payment-intents": "a checkout's payment step, for the booking page's channel",
    "/v1/quotes": "a price quote: no person",
    "/webhooks/event-types": "the list of event types: no tenant data",
    "/v1/leads": "a lead submitted by a channel (the callback task it makes is the record)",
    **{
        path: "a staff member's own second factor and the tenant's rule (no customer data);"
        " every attempt and change is recorded with its outcome (test_staff_mfa.py)"
        for path in (
            "/v1/staff/me/mfa",
            "/v1/staff/me/mfa/enrolment",
            "/v1/staff/me/mfa/enrolment/confirmation",
            "/v1/staff/me/mfa/challenge",
            "/v1/staff/members/{staff_id}/mfa",
            "/v1/staff/mfa-policy",
        )
    },
}


@pytest.mark.parametrize("service", SERVICES)
def test_every_signed_in_route_declares_its_audit(service: str) -> None:
    app = build_http_app(importlib.import_module(SERVICES[service]).service_spec())
    signed_in, missing = [], []
    for route in api_routes(app.routes):
        names = list(dependency_names(route.dependant))
        if "authenticate" not in names:
            continue  # public, a customer's link, a provider's signed webhook
        signed_in.append(route.path)
        audited = any(name.startswith("audited.") for name in names)
        if not audited and route.path not in UNAUDITED:
            missing.append(f"{sorted(route.methods or ())} {route.path}")
    assert signed_in, "the walk found the service's routes"
    assert missing == []
