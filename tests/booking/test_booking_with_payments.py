"""The whole booking path with the real payments service and its simulated card
network: deposit authorised → confirmed; declined → rejected and the hold released;
cancelled inside the window → the deposit refunded; and one trace from the HTTP request
through booking, availability and payments."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from slotline.availability.domain.hold import Hold, HoldStatus
from slotline.events.contract.payments import PaymentAuthorized, PaymentRefunded
from slotline.events.local.infra import free_port
from slotline.events.store import ServiceApplication, event_meta
from slotline.events.testing.reading import eventually
from slotline.events.testing.service import RunningService, bearer, running
from slotline.payments.domain.ledger import Ledger
from slotline.payments.settings import PaymentsSettings
from slotline.payments.wiring import service_spec as payments_spec

from .conftest import Stack, form, future_start

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

DEPOSIT = {"payment": "deposit", "price_minor": 6000, "deposit_minor": 2000}


@pytest.fixture(scope="module")
async def payments(
    stack: Stack, package_database_url: str, package_kafka_bootstrap: str
) -> AsyncIterator[RunningService]:
    settings = PaymentsSettings(
        database_url=package_database_url,
        kafka_bootstrap=package_kafka_bootstrap,
        http_port=free_port(),
        relay_idle_poll_seconds=0.2,
    )
    async with running(payments_spec(settings)) as service:
        yield service


async def deposit_booking(stack: Stack, token: str, hour: int) -> tuple[Any, dict[str, Any]]:
    clinic = await stack.clinic()
    response = await stack.booking.client.put(
        "/v1/policies/standard", json=DEPOSIT, headers=bearer("manager", clinic.tenant_id)
    )
    assert response.status_code == 200
    response = await stack.booking.client.post(
        f"/v1/public/{clinic.tenant_id}/bookings",
        json=form(clinic, future_start(hour=hour), payment_token=token, email="ana@example.com"),
    )
    assert response.status_code in (201, 202, 409), response.text
    return clinic, response.json()


async def settled_card(stack: Stack, card: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}

    async def settled() -> bool:
        nonlocal found
        found = (await stack.booking.client.get(card["manage_url"])).json()
        return found["status"] not in ("pending", "held")

    await eventually(settled, timeout=30)
    return found


@pytest.mark.usefixtures("payments")
class TestPaidBookings:
    async def test_an_authorised_deposit_confirms_the_booking(self, stack: Stack) -> None:
        clinic, card = await deposit_booking(stack, "tok_visa", 10)
        settled = await settled_card(stack, card)
        assert settled["status"] == "confirmed"
        assert settled["paid"]["amount_minor"] == 2000
        authorized = await stack.topics.wait_for(stack.of(clinic.tenant_id, PaymentAuthorized))
        assert authorized[0]["booking_id"] == card["booking_id"]

    async def test_a_declined_card_rejects_the_booking_and_frees_the_slot(
        self, stack: Stack
    ) -> None:
        clinic, card = await deposit_booking(stack, "tok_chargeDeclined", 11)
        settled = await settled_card(stack, card)
        assert settled["status"] == "rejected"
        assert settled["reason"] == "payment_failed"

        async def released() -> bool:
            hold = stack.holds.tenant_hold(clinic.tenant_id, card["booking_id"])
            return hold.status is HoldStatus.RELEASED

        await eventually(released, timeout=20)

    async def test_a_cancellation_inside_the_window_refunds_the_deposit(self, stack: Stack) -> None:
        clinic, card = await deposit_booking(stack, "tok_visa", 12)
        assert (await settled_card(stack, card))["status"] == "confirmed"
        cancelled = await stack.booking.client.post(card["manage_url"] + "/cancel", json={})
        assert cancelled.status_code == 200, cancelled.text
        refunds = await stack.topics.wait_for(
            stack.of(clinic.tenant_id, PaymentRefunded), timeout=30
        )
        assert refunds[0]["amount"] == {"amount_minor": 2000, "currency": "EUR"}
        assert refunds[0]["full"] is True


def trace_ids(app: ServiceApplication, aggregate_id: UUID) -> set[str]:
    """The trace ids stored beside an aggregate's events (its writers' contexts)."""
    return {
        event_meta(event)["traceparent"].split("-")[1]
        for event in app.events.get(aggregate_id)
        if "traceparent" in event_meta(event)
    }


@pytest.mark.usefixtures("payments")
class TestOneTrace:
    async def test_the_request_the_hold_and_the_payment_share_one_trace(
        self, stack: Stack, payments: RunningService, span_exporter: InMemorySpanExporter
    ) -> None:
        clinic, card = await deposit_booking(stack, "tok_visa", 13)
        assert (await settled_card(stack, card))["status"] == "confirmed"
        tenant, booking_id = clinic.tenant_id, card["booking_id"]

        def for_this_tenant(span: ReadableSpan) -> bool:
            attributes = span.attributes or {}
            path = str(attributes.get("http.target") or attributes.get("url.path") or "")
            return span.name.startswith("POST /v1/public/") and tenant in path

        requests = [s for s in span_exporter.get_finished_spans() if for_this_tenant(s)]
        assert requests, "the booking request was traced"
        trace = f"{requests[0].context.trace_id:032x}"
        ledgers = payments.runtime.application
        assert ledgers is not None
        booking_traces = trace_ids(stack.bookings, UUID(booking_id))
        hold_traces = trace_ids(stack.holds, Hold.create_id(tenant, booking_id))
        ledger_traces = trace_ids(ledgers, Ledger.create_id(tenant, booking_id))
        assert trace in booking_traces, "booking stored its events in the request's trace"
        assert trace in hold_traces, "availability placed and confirmed the hold in it"
        assert trace in ledger_traces, "payments authorised the deposit in it"
