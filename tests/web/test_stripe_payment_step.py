"""With a Stripe publishable key the deposit step mounts Stripe's Payment Element on a
PaymentIntent the payments service opened (Stripe.js from js.stripe.com, allowed by the
page's CSP); back from Stripe, the confirmed intent books; without a key the simulated
gateway's form stays. No network here: payments runs its card-network simulator, which
opens Stripe-shaped PaymentIntents; the browser's confirmation (what Stripe.js would
send) is played on that simulator — Stripe.js itself never runs here."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import anyio
import httpx
import pytest
from playwright.async_api import Browser, Route

from slotline.availability.demo import Clinic
from slotline.events.local.infra import free_port
from slotline.events.testing.reading import eventually
from slotline.events.testing.service import bearer
from slotline.payments.application import PaymentsApplication
from slotline.payments.gateway.simulated import SimulatedGateway
from slotline.web.settings import WebSettings

from .conftest import PHONE, Stack, person, serious_violations, serve_web

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


def confirm_in_browser(stack: Stack, intent_id: str, card: str) -> None:
    """What Stripe.js does when the customer presses Pay: confirm the intent."""
    app = stack.payments.runtime.application
    assert isinstance(app, PaymentsApplication)
    assert isinstance(app.gateway, SimulatedGateway)
    app.gateway.network.confirm(intent_id, {"payment_method": card}, f"browser:{intent_id}")


class TestBackFromStripe:
    async def test_the_confirmed_intent_books_and_an_unconfirmed_one_asks_to_pay_again(
        self, stack: Stack, stripe_web: str
    ) -> None:
        clinic, start = await deposit_clinic(stack)
        page = stack.page_of(clinic).removeprefix(stack.web_url)
        step = await payment_step(stripe_web, page, start, str(uuid4()))
        back = re.search(r'data-return-url="([^"]+)"', step.text)
        secret = re.search(r'data-client-secret="(pi_[A-Za-z0-9]+)_secret_', step.text)
        assert back is not None, step.text
        assert secret is not None, step.text
        intent = secret.group(1)
        return_url = html.unescape(back.group(1))
        # the number as typed or encoded, whole: a three-digit piece of it also turns up
        # by chance in the URL's ids (a location id "75cae694-…" did, CI 2026-12-05)
        typed_forms = ("Ana", "Stripe", "6945550155", "694 555", "694+555", "694%20555")
        for typed in typed_forms:
            assert typed not in return_url, "the customer's details are sealed in the URL"
        async with httpx.AsyncClient(base_url=stripe_web) as browser:
            edited = await browser.get(
                return_url.replace("details=", "details=A")
                + f"&payment_intent={intent}&redirect_status=succeeded"
            )
            assert edited.status_code == 422, edited.text
            assert "Traceback" not in edited.text
            unpaid = await browser.get(
                f"{html.unescape(back.group(1))}&payment_intent={intent}&redirect_status=failed"
            )
            assert unpaid.status_code == 402, unpaid.text
            assert "did not go through" in unpaid.text
            assert 'id="payment-element"' in unpaid.text
            again = re.search(r'data-return-url="([^"]+)"', unpaid.text)
            fresh = re.search(r'data-client-secret="(pi_[A-Za-z0-9]+)_secret_', unpaid.text)
            assert again is not None
            assert fresh is not None
            assert fresh.group(1) != intent  # a new request, a new intent
            await anyio.to_thread.run_sync(confirm_in_browser, stack, fresh.group(1), "tok_visa")
            booked = await browser.get(
                f"{html.unescape(again.group(1))}&payment_intent={fresh.group(1)}"
                "&redirect_status=succeeded"
            )
            assert booked.status_code == 303, booked.text
            manage = booked.headers["location"]
            assert manage.startswith("/v1/manage/")

            async def confirmed() -> bool:
                shown = await browser.get(manage)
                return "You are booked" in shown.text and "20.00" in shown.text

            await eventually(confirmed, timeout=30)


@pytest.mark.parametrize("language", ["en", "el"])
async def test_the_payment_element_step_has_no_serious_accessibility_problem(
    stack: Stack, stripe_web: str, browser: Browser, language: str
) -> None:
    """The page around Stripe's frames (Stripe.js cannot load here: it is refused)."""
    clinic, start = await deposit_clinic(stack)
    page_path = stack.page_of(clinic).removeprefix(stack.web_url)
    async with person(browser, PHONE, language) as page:

        async def offline(route: Route) -> None:
            await route.abort()

        await page.route("https://js.stripe.com/**", offline)
        await page.goto(f"{stripe_web}{page_path}/book?start={start.replace('+', '%2B')}")
        await page.fill("#name", "Ana Stripe")
        await page.fill("#phone", "+30 694 555 0166")
        await page.locator("button[type=submit]").click()
        await page.wait_for_selector("#payment-element", state="attached")
        assert await serious_violations(page) == []
