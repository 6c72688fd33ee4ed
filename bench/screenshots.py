"""``make screenshots``: every page of the web service on a phone (390×844) and a
desktop (1280×900), from a fresh ``make run``, into ``docs/screenshots/``.

``make screenshots ONLY="9-console-today 12-waitlist"`` writes only the pictures so
named (every page is still visited): an unchanged page keeps its picture."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from playwright.async_api import Page, async_playwright
from support import say
from web_stack import local_stack

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
DEVICES: dict[str, dict[str, Any]] = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 900}},
}
ONLY = set(sys.argv[1:])  # picture names to write; none given: all


async def shoot(page: Page, name: str, device: str) -> None:
    await page.wait_for_load_state("networkidle")
    if ONLY and name not in ONLY:
        return
    await page.screenshot(path=str(OUT / f"{name}-{device}.png"), full_page=device == "phone")
    say(f"{name}-{device}.png")


async def customer(page: Page, web: str, device: str) -> None:
    await page.goto(f"{web}/demo")  # the demo clinic's booking link
    calendar = page.url.split("?")[0] + "/60-min-massage"
    await page.goto(calendar)
    await shoot(page, "1-calendar", device)
    await page.locator(".days a").nth(2).click()
    await page.locator(".times a").nth(2 if device == "phone" else 3).click()
    await page.locator("button[type=submit]").click()
    await shoot(page, "2-form-errors", device)
    await page.fill("#name", "Maria Papadopoulou")
    await page.fill("#phone", "+30 694 123 4567")
    await page.fill("#email", "maria@example.com")
    await page.locator("button[type=submit]").click()
    await page.wait_for_selector(".ref")
    await shoot(page, "3-confirmation", device)
    manage = page.url.split("?")[0]
    await page.goto(manage)
    await shoot(page, "12-manage-confirmed", device)
    await page.goto(f"{manage}/cancel")
    await shoot(page, "4-cancel", device)
    await page.goto(f"{manage}/move")
    await shoot(page, "5-move", device)
    await page.locator(".days a").nth(3).click()
    await page.locator(".times button").first.click()
    await page.wait_for_url(f"{manage}*")
    await shoot(page, "13-manage-moved", device)
    await page.goto(f"{manage}/cancel")
    await page.locator("button[type=submit]").click()
    await page.wait_for_url(f"{manage}*")
    await shoot(page, "14-manage-cancelled", device)
    await page.goto(f"{calendar}?lang=el")
    await shoot(page, "6-calendar-greek", device)
    await page.goto(f"{calendar}?lang=en")
    day = await page.locator(".days a").nth(4).get_attribute("href") or ""
    await page.goto(f"{calendar}/waitlist?day={day.split('day=')[1]}")
    await shoot(page, "15-waitlist-form", device)
    await page.fill("#name", "Eleni Georgiou")
    await page.fill("#email", "eleni@example.com")
    await page.locator("form.form button[type=submit]").click()
    await page.wait_for_selector("form[action$='/leave']")
    await shoot(page, "16-waitlist-place", device)
    await page.goto(f"{web}/demo/no-such-place")
    await shoot(page, "17-page-not-found", device)


async def console(page: Page, web: str, token: str, device: str) -> None:
    await page.goto(f"{web}/console/sign-in?lang=en")
    await shoot(page, "7-console-sign-in", device)
    await page.fill("#token", token)
    await page.locator("button[type=submit]").click()
    await page.wait_for_url("**/console/today**")
    await page.locator(".cell--free a").first.click()
    await page.fill("#name", "Giorgos (phone)")
    await page.fill("#phone", "+30 694 555 0101")
    await shoot(page, "8-console-book-a-caller", device)
    await page.get_by_role("button", name="Book", exact=True).click()
    await page.wait_for_selector(".notice--ok")
    await page.goto(f"{web}/console/today")
    await shoot(page, "9-console-today", device)
    await page.goto(f"{web}/console/callbacks")
    await shoot(page, "10-console-callbacks", device)
    await page.goto(f"{web}/console/customers?q=Mar")
    await page.locator(".card a").first.click()
    await shoot(page, "11-console-customer", device)


async def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with local_stack() as (web, token):
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
            )
            for device, options in DEVICES.items():
                context = await browser.new_context(**options, locale="en-GB")
                page = await context.new_page()
                await customer(page, web, device)
                await console(page, web, token, device)
                await context.close()
            await browser.close()


if __name__ == "__main__":
    asyncio.run(main())
