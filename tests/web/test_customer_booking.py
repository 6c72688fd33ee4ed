"""A customer on a phone books from the booking link, gets a valid calendar file,
opens the manage link and cancels — and a slot taken by someone else between view
and submit shows the nearest free times in place, the typed details kept."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from icalendar import Calendar
from playwright.async_api import Browser, expect

from .conftest import PHONE, Stack, person

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


class TestBookingFromAPhone:
    async def test_a_customer_books_in_one_tap_after_the_form_then_cancels(
        self, stack: Stack, browser: Browser, tmp_path: object
    ) -> None:
        clinic = await stack.clinic()
        async with person(browser, PHONE) as page:
            await page.goto(stack.page_of(clinic))
            soonest = page.locator(".soonest a")
            await expect(soonest).to_be_visible()
            assert (await soonest.bounding_box() or {}).get("y", 999) < 844, "above the fold"
            await page.locator(".days a").nth(3).tap()  # a day ahead: free cancellation
            await page.locator(".times a").first.tap()  # a time
            await page.fill("#name", "Maria Papadopoulou")
            await page.fill("#phone", "+30 694 123 4567")
            await page.fill("#email", "maria@example.com")
            await page.locator("button[type=submit]").tap()  # tap 2: book (1 after the form)
            await expect(page.locator("h1")).to_contain_text("You are booked")
            reference = (await page.locator(".ref").inner_text()).strip()
            assert reference.startswith("SLT-")
            manage_url = page.url.split("?")[0]

            async with page.expect_download() as download_info:
                await page.get_by_role("link", name="Calendar file (.ics)").click()
            download = await download_info.value
            path = await download.path()
            calendar = Calendar.from_ical(Path(path).read_bytes())
            event = next(c for c in calendar.walk() if c.name == "VEVENT")
            assert reference in str(event["summary"])
            assert isinstance(event.decoded("dtstart"), datetime)
            await expect(page.locator('link[rel="manifest"]')).to_have_count(1)
            manifest = await page.request.get(f"{manage_url}/manifest.webmanifest")
            assert manifest.ok
            assert (await manifest.json())["start_url"].startswith("/v1/manage/")

            await page.goto(manage_url)  # the link from the SMS / e-mail
            await page.get_by_role("link", name="Cancel").tap()
            await expect(page.locator(".notice")).to_contain_text("Cancelling now is free")
            await page.get_by_role("button", name="Yes, cancel my booking").tap()
            await expect(page.locator(".notice--ok")).to_contain_text("cancelled")
            await expect(page.locator(".badge")).to_have_text("Cancelled")

    async def test_a_slot_taken_meanwhile_offers_the_nearest_times_keeping_the_details(
        self, stack: Stack, browser: Browser
    ) -> None:
        clinic = await stack.clinic(staff=1, rooms=1)
        async with person(browser, PHONE) as slow, person(browser, PHONE) as quick:
            await slow.goto(stack.page_of(clinic))
            first_time = slow.locator(".times a").first
            wanted = await first_time.inner_text()
            await first_time.tap()
            await slow.fill("#name", "Eleni Slow")
            await slow.fill("#phone", "+30 694 000 0001")
            await slow.fill("#note", "second floor please")

            await quick.goto(slow.url)  # the same time, in another browser
            await quick.fill("#name", "Nikos Quick")
            await quick.fill("#phone", "+30 694 000 0002")
            await quick.locator("button[type=submit]").tap()
            await expect(quick.locator("h1")).to_contain_text("You are booked")

            await slow.locator("button[type=submit]").tap()
            taken = slow.locator("#taken")
            await expect(taken).to_contain_text(f"{wanted} was just taken")
            assert await slow.input_value("#name") == "Eleni Slow"
            assert await slow.input_value("#note") == "second floor please"
            choices = taken.locator("input[type=radio]")
            assert await choices.count() >= 1
            await slow.locator("button[type=submit]").tap()
            await expect(slow.locator("h1")).to_contain_text("You are booked")
