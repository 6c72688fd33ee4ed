"""The web service in front of the real services, with Debian's Chromium driven by
Playwright. The services start once for the package (availability, booking,
payments, call-intake on one PostgreSQL server and one broker), the web service in
front of them; each test gets its own tenant and clinic, and one browser serves a
module (a fresh context per person)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import anyio
import httpx
import pytest
import uvicorn
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from slotline.availability.application import AvailabilityApplication
from slotline.availability.demo import Clinic, open_clinic
from slotline.availability.settings import AvailabilitySettings
from slotline.availability.wiring import service_spec as availability_spec
from slotline.booking.application import BookingApplication
from slotline.booking.settings import BookingSettings
from slotline.booking.wiring import service_spec as booking_spec
from slotline.call_intake.settings import CallIntakeSettings
from slotline.call_intake.wiring import service_spec as call_intake_spec
from slotline.events.local.infra import free_port
from slotline.events.testing.reading import eventually
from slotline.events.testing.service import RunningService, bearer, running
from slotline.payments.settings import PaymentsSettings
from slotline.payments.wiring import service_spec as payments_spec
from slotline.web.settings import WebSettings
from slotline.web.wiring import build_app

CHROMIUM = os.environ.get("SLOTLINE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = (
    Path(__file__).resolve().parents[2] / "services/web/tests/node/node_modules/axe-core/axe.min.js"
)
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


@dataclass
class Stack:
    availability: RunningService
    booking: RunningService
    payments: RunningService
    call_intake: RunningService
    web_url: str

    @property
    def holds(self) -> AvailabilityApplication:
        app = self.availability.runtime.application
        assert isinstance(app, AvailabilityApplication)
        return app

    @property
    def bookings(self) -> BookingApplication:
        app = self.booking.runtime.application
        assert isinstance(app, BookingApplication)
        return app

    async def clinic(self, *, staff: int = 2, rooms: int = 2, **shape: Any) -> Clinic:
        """A fresh tenant with the massage clinic, once booking's catalogue lists it
        (``shape``: more of ``open_clinic``'s options, e.g. its hours)."""
        tenant = f"t{uuid4().hex[:10]}"
        clinic = await anyio.to_thread.run_sync(
            lambda: open_clinic(self.holds, tenant, staff=staff, rooms=rooms, **shape)
        )

        async def listed() -> bool:
            found = await anyio.to_thread.run_sync(
                self.bookings.catalog.service, tenant, str(clinic.service_id)
            )
            return found is not None

        async def offered() -> bool:
            return bool(await self.slots(clinic))

        await eventually(listed, timeout=20)
        await eventually(offered, timeout=20)  # the slot view is projected after the writes
        return clinic

    async def slots(self, clinic: Clinic) -> list[dict[str, Any]]:
        response = await self.availability.client.get(
            "/v1/slots",
            params={"service_id": str(clinic.service_id), "limit": 50},
            headers=bearer("staff", clinic.tenant_id),
        )
        found: list[dict[str, Any]] = response.json()
        return found

    def page_of(self, clinic: Clinic) -> str:
        return f"{self.web_url}/{clinic.tenant_id}/kifisia-clinic/60-min-massage"


async def serve_web(settings: WebSettings) -> AsyncIterator[str]:
    server = uvicorn.Server(
        uvicorn.Config(build_app(settings), port=settings.http_port, log_config=None)
    )
    task = asyncio.create_task(server.serve())
    url = f"http://127.0.0.1:{settings.http_port}"
    async with httpx.AsyncClient(base_url=url) as client:

        async def ready() -> bool:
            if task.done():
                task.result()
            try:
                return (await client.get("/readyz")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(ready, timeout=30)
    try:
        yield url
    finally:
        server.should_exit = True
        await task


@pytest.fixture(scope="package")
async def stack(package_database_url: str, package_kafka_bootstrap: str) -> AsyncIterator[Stack]:
    common: dict[str, Any] = {
        "database_url": package_database_url,
        "kafka_bootstrap": package_kafka_bootstrap,
        "relay_idle_poll_seconds": 0.2,
    }
    web_port = free_port()
    web_url = f"http://127.0.0.1:{web_port}"
    async with AsyncExitStack() as services:
        availability = await services.enter_async_context(
            running(
                availability_spec(
                    AvailabilitySettings(
                        **common, http_port=free_port(), expiry_interval_seconds=0.5
                    )
                )
            )
        )
        booking = await services.enter_async_context(
            running(
                booking_spec(
                    BookingSettings(
                        **common,
                        http_port=free_port(),
                        public_base_url=web_url,
                        timeout_interval_seconds=0.5,
                        answer_wait_seconds=5,
                    )
                )
            )
        )
        payments = await services.enter_async_context(
            running(payments_spec(PaymentsSettings(**common, http_port=free_port())))
        )
        call_intake = await services.enter_async_context(
            running(
                call_intake_spec(
                    CallIntakeSettings(**common, http_port=free_port(), sla_interval_seconds=1)
                )
            )
        )
        settings = WebSettings(
            http_port=web_port,
            log_json=True,
            web_public_url=web_url,
            web_availability_url=availability.base_url,
            web_booking_url=booking.base_url,
            web_payments_url=payments.base_url,
            web_call_intake_url=call_intake.base_url,
            web_booking_rate_limit="1000/minute",
        )
        url = await services.enter_async_context(asynccontextmanager(serve_web)(settings))
        yield Stack(availability, booking, payments, call_intake, url)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            await launched.close()


@asynccontextmanager
async def person(
    browser: Browser, device: dict[str, Any], language: str = "en"
) -> AsyncIterator[Page]:
    """One person's browser window (own cookies), in their language."""
    context: BrowserContext = await browser.new_context(
        **device,
        locale="el-GR" if language == "el" else "en-GB",
        accept_downloads=True,
        bypass_csp=True,  # axe is injected as a script; the pages themselves run none inline
    )
    context.set_default_timeout(15_000)
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page as it is (WCAG 2.2 A/AA)."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: npm ci --prefix services/web/tests/node (.ci/run does)")
    await page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = await page.evaluate(
        """() => axe.run(document, {runOnly: {type: "tag", values:
            ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}})"""
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def staff_token(tenant: str, role: str = "front_desk", subject: str = "desk-1") -> str:
    return bearer(role, tenant, subject)["Authorization"].removeprefix("Bearer ")


async def sign_in(page: Page, web_url: str, token: str) -> None:
    await page.goto(f"{web_url}/console/sign-in")
    await page.fill("#token", token)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/console/today**")
