"""A customer on a phone books from the booking link, gets a valid calendar file,
opens the manage link and cancels — and a slot taken by someone else between view
and submit shows the nearest free times in place, the typed details kept."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from playwright.async_api import Browser, expect

from slotline.events.testing.reading import eventually
from slotline.events.testing.service import bearer

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
            await expect(soonest).to_be_in_viewport()  # above the fold (waits for layout)
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

            api = await page.request.get(manage_url, headers={"Accept": "application/json"})
            assert (await api.json())["reference"] == reference  # the same link, for programs
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


class TestWithoutJavaScript:
    async def test_a_customer_books_then_moves_it_from_the_manage_page_with_scripts_off(
        self, stack: Stack, browser: Browser
    ) -> None:
        """The core flow is plain links and forms: service, time, form, confirmation,
        then a move chosen on the manage page."""
        clinic = await stack.clinic()
        phone: dict[str, Any] = PHONE
        context = await browser.new_context(**phone, locale="en-GB", java_script_enabled=False)
        context.set_default_timeout(15_000)
        try:
            page = await context.new_page()
            await page.goto(f"{stack.web_url}/{clinic.tenant_id}")
            await page.locator(".card__link").first.click()  # the service
            await page.locator(f'.days a[href*="day={_days_ahead(2)}"]').click()
            await page.locator(".times a").first.click()  # a time
            await page.fill("#name", "Nikos Without Scripts")
            await page.fill("#email", "nikos@example.com")
            await page.locator("button[type=submit]").click()
            await expect(page.locator("h1")).to_contain_text("You are booked")
            reference = (await page.locator(".ref").inner_text()).strip()

            await page.get_by_role("link", name="Move").click()
            await page.locator(f'.days a[href*="day={_days_ahead(3)}"]').click()
            target = page.locator(".times button").first
            chosen = await target.get_attribute("value")
            assert chosen is not None
            await target.click()
            await page.wait_for_url(re.compile(r"/v1/manage/[^/]+(\?.*)?$"))
            await expect(page.locator("h1")).to_have_text("Your booking")
        finally:
            await context.close()
        staff = bearer("staff", clinic.tenant_id)

        async def moved() -> bool:
            card = await stack.booking.client.get(
                f"/v1/bookings/by-reference/{reference}", headers=staff
            )
            return datetime.fromisoformat(card.json()["start"]) == datetime.fromisoformat(chosen)

        await eventually(moved, timeout=10)


def _days_ahead(days: int) -> str:
    return (datetime.now(ZoneInfo("Europe/Athens")) + timedelta(days=days)).date().isoformat()


class TestLiveAndEmbedded:
    async def test_a_time_booked_elsewhere_leaves_an_open_calendar_without_a_reload(
        self, stack: Stack, browser: Browser
    ) -> None:
        clinic = await stack.clinic(staff=1, rooms=1)
        async with person(browser, PHONE) as page:
            await page.goto(stack.page_of(clinic))
            first = page.locator(".times a").first
            href = await first.get_attribute("href")
            assert href is not None
            start = unquote(href.split("start=")[1].split("&")[0])
            booked = await stack.booking.client.post(
                f"/v1/public/{clinic.tenant_id}/bookings",
                json={
                    "name": "Someone Else",
                    "phone": "+306940000009",
                    "service_id": str(clinic.service_id),
                    "location_id": str(clinic.location_id),
                    "start": start,
                },
            )
            assert booked.status_code == 201, booked.text
            await expect(page.locator(f'.times a[href="{href}"]')).to_have_count(0, timeout=15_000)
            await expect(page.locator("#live-note")).to_have_text("Times updated.")

    async def test_the_embed_script_puts_the_page_in_an_iframe_that_grows(
        self, stack: Stack, browser: Browser
    ) -> None:
        clinic = await stack.clinic()
        tomorrow = (datetime.now(ZoneInfo("Europe/Athens")) + timedelta(days=1)).date()
        # a whole open day of times (today may have only a few left): taller than the frame
        path = f"{stack.page_of(clinic).removeprefix(stack.web_url)}?day={tomorrow}"
        async with person(browser, PHONE) as page:
            host = (  # the business's own site, on another origin, laid out for phones
                f'<!doctype html><html lang="en"><title>Clinic</title>'
                f'<meta name="viewport" content="width=device-width, initial-scale=1">'
                f"<main><h1>Our clinic</h1>"
                f'<script src="{stack.web_url}/embed.js" data-booking="{path}"></script></main>'
            )
            with business_site(host) as site:
                await page.goto(site)
                frame = page.frame_locator("iframe")
                await expect(frame.locator(".soonest a")).to_be_visible()
                await expect(frame.locator(".top")).to_be_hidden()

                async def grown() -> bool:
                    box = await page.locator("iframe").bounding_box()
                    inner = await page.frames[1].evaluate("document.documentElement.scrollHeight")
                    return box is not None and box["height"] > 560 and inner <= box["height"] + 1

                await eventually(grown, timeout=10)  # as tall as its content: no inner scroll


@contextmanager
def business_site(html: str) -> Iterator[str]:
    """A real HTTP server on another loopback port, serving the business's page."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
