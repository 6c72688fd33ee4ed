"""axe-core finds no serious or critical WCAG 2.2 A/AA problem on any page, in English
or in Greek: the customer's pages on a phone, the console on a desktop."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import unquote
from uuid import uuid4

import anyio
import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from slotline.events.testing.reading import eventually
from slotline.events.testing.service import bearer
from slotline.web.settings import WebSettings
from slotline.web.wiring import build_app

from .conftest import DESKTOP, PHONE, Stack, person, serious_violations, sign_in, staff_token

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

DEPOSIT = {"payment": "deposit", "price_minor": 6000, "deposit_minor": 2000}


async def check(page: Page, name: str, found: dict[str, Any]) -> None:
    await page.wait_for_load_state("load")
    problems = await serious_violations(page)
    if problems:
        found[name] = problems


@pytest.mark.parametrize("language", ["en", "el"])
async def test_every_page_has_no_serious_accessibility_problem(
    stack: Stack, browser: Browser, language: str
) -> None:
    clinic = await stack.clinic()
    tenant = clinic.tenant_id
    await stack.booking.client.put(
        "/v1/policies/standard", json=DEPOSIT, headers=bearer("manager", tenant)
    )
    await stack.call_intake.client.post(
        "/v1/leads",
        json={"lead_id": uuid4().hex, "phone": "+306945550177", "name": "Lead"},
        headers=bearer("front_desk", tenant),
    )
    found: dict[str, Any] = {}
    base = stack.page_of(clinic)
    async with person(browser, PHONE, language) as page:
        await page.goto(f"{stack.web_url}/{tenant}/kifisia-clinic")
        await check(page, "services", found)
        await page.goto(base)
        await check(page, "calendar", found)
        # the day the console opens below (by date: how many days still have times varies)
        await page.locator(f'.days a[href*="day={_in_two_days()}"]').click()
        await page.locator(".times a").first.click()
        await check(page, "form", found)
        await page.locator("button[type=submit]").click()  # nothing typed
        await expect(page.locator("#problems")).to_be_visible()
        await check(page, "form with errors", found)
        await page.fill("#name", "Maria")
        await page.fill("#phone", "+30 694 123 4567")
        await page.locator("button[type=submit]").click()
        await check(page, "payment", found)
        await page.locator("button[type=submit]").click()
        await expect(page.locator(".ref")).to_be_visible(timeout=30_000)
        await check(page, "confirmation", found)
        manage = page.url.split("?")[0]
        await page.goto(f"{manage}/cancel")
        await check(page, "cancel", found)
        await page.goto(f"{manage}/move")
        await check(page, "move", found)
        await page.goto(f"{base}/book?start=2020-01-01T10:00:00%2B02:00")
        await check(page, "time not free", found)
        await page.goto(f"{stack.web_url}/{tenant}/nowhere")
        await check(page, "not found", found)
        await page.goto(f"{base}/waitlist?day={_in_two_days()}")
        await check(page, "waitlist closed (deposit)", found)
        waiting = stack.page_of(await stack.clinic(staff=1, rooms=1))  # no deposit: a line
        await page.goto(f"{waiting}/waitlist?day={_in_two_days()}")
        await check(page, "waitlist", found)
        await page.locator("button[type=submit]").click()  # nothing typed
        await expect(page.locator("#problems")).to_be_visible()
        await check(page, "waitlist with errors", found)
        await page.fill("#name", "Maria")
        await page.fill("#email", "maria@example.com")
        await page.locator("button[type=submit]").click()
        await expect(page.locator("form[action$='/leave']")).to_be_visible()
        await check(page, "waitlist place", found)
    async with person(browser, DESKTOP, language) as desk:
        await desk.goto(f"{stack.web_url}/console/sign-in")
        await check(desk, "sign in", found)
        await desk.fill("#token", "not-a-token")
        await desk.locator("button[type=submit]").click()
        await check(desk, "sign in refused", found)
        await sign_in(desk, stack.web_url, staff_token(tenant))
        await desk.goto(f"{stack.web_url}/console/today?day={_in_two_days()}")
        await check(desk, "today", found)
        await desk.locator(".cell--booking a").first.click()
        await check(desk, "booking", found)
        await desk.get_by_role("link", name=_("Move", language)).click()
        await check(desk, "console move", found)
        await desk.goto(f"{stack.web_url}/console/today?day={_in_two_days()}")
        await desk.locator(".cell--free a").first.click()
        await check(desk, "book a caller", found)
        await desk.goto(f"{stack.web_url}/console/callbacks")
        await expect(desk.locator(".task")).to_have_count(1, timeout=20_000)
        await check(desk, "callbacks", found)
        await desk.goto(f"{stack.web_url}/console/customers?q=Mar")
        await check(desk, "customers", found)
        await desk.locator(".card a").first.click()
        await check(desk, "customer", found)
    assert found == {}, found


async def test_the_pages_of_every_state_have_no_serious_accessibility_problem(
    stack: Stack, browser: Browser
) -> None:
    """The locations list, an embedded page, a declined card, a time taken meanwhile,
    the manage page inside the fee window, moved (outside it) and cancelled, and the
    page a dead service gives; English and Greek side by side (one context each)."""
    found: dict[str, Any] = {}
    await asyncio.gather(*(_walk_the_states(stack, browser, lang, found) for lang in ("en", "el")))
    assert found == {}, found


async def _walk_the_states(
    stack: Stack, browser: Browser, language: str, all_found: dict[str, Any]
) -> None:
    clinic = await stack.clinic(staff=1, rooms=1)  # one booking fills a time
    tenant = clinic.tenant_id
    await anyio.to_thread.run_sync(
        lambda: stack.holds.register_location(tenant, "Marousi clinic", "Europe/Athens")
    )
    await stack.booking.client.put(
        "/v1/policies/standard", json=DEPOSIT, headers=bearer("manager", tenant)
    )

    async def two_locations() -> bool:
        catalog = await stack.booking.client.get(f"/v1/public/{tenant}/catalog")
        return len(catalog.json()) == 2

    await eventually(two_locations, timeout=20)
    found: dict[str, Any] = {}
    async with person(browser, PHONE, language) as page:
        await page.goto(f"{stack.web_url}/{tenant}")
        await check(page, "locations", found)
        await page.goto(f"{stack.page_of(clinic)}?embed=1")
        await check(page, "calendar embedded", found)
        soonest = await page.locator(".soonest a").get_attribute("href")
        assert soonest is not None
        await page.locator(".soonest a").click()  # soon: inside the fee window
        await page.fill("#name", "Maria")
        await page.fill("#phone", "+30 694 123 4567")
        await page.locator("button[type=submit]").click()
        await page.locator("input[value=tok_chargeDeclined]").check()
        await page.locator("button[type=submit]").click()
        await expect(page.locator("#problems")).to_be_visible()
        await check(page, "payment declined", found)
        taken = await stack.booking.client.post(  # someone else pays for it meanwhile
            f"/v1/public/{tenant}/bookings",
            json={
                "name": "Someone Else",
                "phone": "+306940000009",
                "service_id": str(clinic.service_id),
                "location_id": str(clinic.location_id),
                "start": unquote(soonest.split("start=")[1].split("&")[0]),
                "payment_token": "tok_visa",
            },
        )
        assert taken.status_code == 201, taken.text
        await page.locator("input[value=tok_visa]").check()
        await page.locator("button[type=submit]").click()
        await expect(page.locator("#taken")).to_be_visible()
        await check(page, "form, time taken meanwhile", found)
        await page.locator("button[type=submit]").click()  # the nearest free time
        await page.locator("button[type=submit]").click()  # pay (the approved card)
        await expect(page.locator(".ref")).to_be_visible(timeout=30_000)
        manage = page.url.split("?")[0]
        await page.goto(manage)
        await check(page, "manage, soon (inside the fee window)", found)
        await page.goto(f"{manage}/move?day={_in_two_days()}")
        await page.locator(".times button").first.click()
        await page.wait_for_url(f"{manage}*")
        await check(page, "manage, moved (free to cancel)", found)
        await page.goto(f"{manage}/cancel")
        await page.locator("button[type=submit]").click()
        await page.wait_for_url(f"{manage}*")
        await check(page, "manage, cancelled", found)

        dead = "http://127.0.0.1:9"  # discard port: nothing listens
        app = build_app(WebSettings(web_booking_url=dead, web_availability_url=dead))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://web"
        ) as client:
            down = await client.get("/demo", headers={"Accept-Language": language})
        assert down.status_code == 503
        await page.set_content(down.text)
        await check(page, "service down", found)
    all_found.update({f"{name} ({language})": problems for name, problems in found.items()})


def _(text: str, language: str) -> str:
    return {"Move": "Αλλαγή ώρας"}[text] if language == "el" else text


def _in_two_days() -> str:
    """The Athens date two days ahead: bookable at any hour, free to cancel."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    return (
        (datetime.now(UTC).astimezone(ZoneInfo("Europe/Athens")) + timedelta(days=2))
        .date()
        .isoformat()
    )


async def test_the_checker_itself_reports_a_serious_problem(browser: Browser) -> None:
    """Guards the harness: a page with an unlabelled input and low contrast fails."""
    async with person(browser, DESKTOP) as page:
        await page.set_content(
            '<html lang="en"><body><main><input type="text">'
            '<p style="color:#bbb;background:#fff">faint</p></main></body></html>'
        )
        ids = {problem["id"] for problem in await serious_violations(page)}
    assert {"label", "color-contrast"} <= ids
