"""With a Stripe publishable key the deposit step mounts Stripe's Payment Element on a
PaymentIntent the payments service opened (Stripe.js from js.stripe.com, allowed by the
page's CSP); without one the simulated gateway's form stays. No network here: payments
runs its card-network simulator, which opens Stripe-shaped PaymentIntents; nothing
confirms one in a browser (Stripe.js cannot load)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
import pytest

from slotline.availability.demo import Clinic
from slotline.events.local.infra import free_port
from slotline.events.testing.service import bearer
from slotline.web.settings import WebSettings

from .conftest import Stack, serve_web

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

DEPOSIT = {"payment": "deposit", "price_minor": 6000, "deposit_minor": 2000}


@pytest.fixture(scope="module")
async def stripe_web(stack: Stack) -> AsyncIterator[str]:
    """A second web process in front of the same services, with a Stripe key."""
    port = free_port()
    settings = WebSettings(
        http_port=port,
        web_public_url=f"http://127.0.0.1:{port}",
        web_availability_url=stack.availability.base_url,
        web_booking_url=stack.booking.base_url,
        web_payments_url=stack.payments.base_url,
        web_call_intake_url=stack.call_intake.base_url,
        web_booking_rate_limit="1000/minute",
        web_stripe_publishable_key="pk_test_slotline0local",
    )
    async with asynccontextmanager(serve_web)(settings) as url:
        yield url


async def deposit_clinic(stack: Stack) -> tuple[Clinic, str]:
    clinic = await stack.clinic()
    policy = await stack.booking.client.put(
        "/v1/policies/standard", json=DEPOSIT, headers=bearer("manager", clinic.tenant_id)
    )
    assert policy.status_code == 200, policy.text
    slots = await stack.availability.client.get(
        "/v1/slots",
        params={
            "service_id": str(clinic.service_id),
            "from": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
            "limit": 1,
        },
        headers=bearer("staff", clinic.tenant_id),
    )
    return clinic, str(slots.json()[0]["start"])


async def payment_step(base: str, page: str, start: str, request_id: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base) as browser:
        await browser.get(page)  # the deposit shows only once the catalogue knows it
        return await browser.post(
            f"{page}/book",
            data={
                "name": "Ana Stripe",
                "phone": "+30 694 555 0155",
                "start": start,
                "request_id": request_id,
            },
            headers={"Origin": base},
        )


class TestThePaymentStep:
    async def test_with_a_stripe_key_it_mounts_the_payment_element_on_payments_intent(
        self, stack: Stack, stripe_web: str
    ) -> None:
        clinic, start = await deposit_clinic(stack)
        page = stack.page_of(clinic).removeprefix(stack.web_url)
        request_id = str(uuid4())
        step = await payment_step(stripe_web, page, start, request_id)
        assert step.status_code == 200, step.text
        csp = step.headers["content-security-policy"]
        assert "script-src 'self' https://js.stripe.com;" in csp
        assert "frame-src 'self' https://js.stripe.com" in csp
        assert 'id="payment-element"' in step.text
        assert '<script src="https://js.stripe.com/v3"></script>' in step.text
        assert 'name="card"' not in step.text
        shown = re.search(r'data-client-secret="([^"]+)"', step.text)
        assert shown is not None, step.text
        again = await stack.payments.client.post(  # the same request opens the same intent
            "/v1/payment-intents",
            json={"request_id": request_id, "amount_minor": 2000, "currency": "EUR"},
            headers=bearer("channel", clinic.tenant_id),
        )
        assert again.status_code == 201, again.text
        assert again.json()["client_secret"] == shown.group(1)
        assert shown.group(1).startswith(again.json()["payment_intent_id"] + "_secret_")

    async def test_without_a_key_the_simulated_form_is_shown(self, stack: Stack) -> None:
        clinic, start = await deposit_clinic(stack)
        page = stack.page_of(clinic).removeprefix(stack.web_url)
        step = await payment_step(stack.web_url, page, start, str(uuid4()))
        assert step.status_code == 200, step.text
        assert 'name="card"' in step.text
        assert "payment-element" not in step.text
        assert "js.stripe.com" not in step.text
        assert "js.stripe.com" not in step.headers["content-security-policy"]
