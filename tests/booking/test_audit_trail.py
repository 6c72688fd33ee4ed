"""Issue 17 item 10: booking's staff routes leave an audit trail — who (the token's
user id), which customer or booking, read or change, when and from where — that owners
query, and that goes out on audit.events.v1."""

from __future__ import annotations

import json
from uuid import uuid4

import pytest
from fastapi.routing import APIRoute

from slotline.events.testing.reading import eventually, read_topic
from slotline.events.testing.routes import api_routes, dependency_names
from slotline.events.testing.service import bearer
from slotline.events.topics import AUDIT_EVENTS

from .conftest import Stack, form, future_start

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

NOT_STAFF_ACCESS = (
    "/v1/public/",
    "/v1/manage/",
    "/v1/audit",
    "/v1/waitlist/{token}",
    "/v1/staff/",
)
"""Customers' own routes (their link is the credential), the trail itself, and staff
sign-in's second factor (which records each attempt with its outcome: test_staff_mfa)."""


def audits(route: APIRoute) -> bool:
    return any(name.startswith("audited.") for name in dependency_names(route.dependant))


async def test_every_staff_route_declares_what_it_audits(stack: Stack) -> None:
    routes = list(api_routes(stack.booking.app.routes))
    staff = [
        r
        for r in routes
        if r.path.startswith("/v1/")
        and not r.path.startswith(NOT_STAFF_ACCESS)
        and not (r.path == "/v1/bookings" and "POST" in (r.methods or ()))  # a request, not access
    ]
    assert len(staff) > 15
    public = next(r for r in routes if r.path == "/v1/public/{tenant_id}/bookings")
    assert not audits(public), "the check tells an unaudited route"
    assert [f"{sorted(r.methods or ())} {r.path}" for r in staff if not audits(r)] == []


async def test_reading_a_customer_and_cancelling_a_booking_are_on_the_owners_trail(
    stack: Stack,
) -> None:
    clinic = await stack.clinic()
    tenant = clinic.tenant_id
    answer = await stack.booking.client.post(
        f"/v1/public/{tenant}/bookings", json=form(clinic, future_start(hour=16))
    )
    booked = answer.json()
    desk = f"desk-{uuid4().hex[:6]}"
    customer_id = booked["customer_id"]
    timeline = await stack.booking.client.get(
        f"/v1/customers/{customer_id}/timeline", headers=bearer("front_desk", tenant, desk)
    )
    assert timeline.status_code == 200, timeline.text
    cancelled = await stack.booking.client.post(
        f"/v1/bookings/{booked['booking_id']}/cancel",
        json={"reason": "asked by phone"},
        headers=bearer("front_desk", tenant, desk),
    )
    assert cancelled.status_code == 200, cancelled.text

    owner = bearer("owner", tenant)
    trail = (await stack.booking.client.get(f"/v1/audit?actor={desk}", headers=owner)).json()
    seen = {(e["access"], e["item_kind"], e["item_id"]) for e in trail}
    assert ("read", "customer", customer_id) in seen
    assert ("change", "booking", booked["booking_id"]) in seen
    assert all(e["actor"] == desk and e["source_address"] == "127.0.0.1" for e in trail)
    assert (
        await stack.booking.client.get("/v1/audit", headers=bearer("manager", tenant))
    ).status_code == 403

    published: list[dict[str, object]] = []

    async def on_the_topic() -> bool:
        records = await read_topic(stack.bootstrap, AUDIT_EVENTS, expected=1, timeout=5)
        published[:] = [
            json.loads(r.value or b"{}") for r in records if desk.encode() in (r.value or b"")
        ]
        return len(published) >= 2

    await eventually(on_the_topic, timeout=30)
    assert {p["item_kind"] for p in published} >= {"customer", "booking"}
    assert "Maria" not in json.dumps(published), "the trail names ids, not people"
