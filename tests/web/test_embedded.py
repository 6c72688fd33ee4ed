"""The embeddable booking page stays embedded: on a business's site, every link, form
and redirect of the flow keeps ``embed=1``, and every page tells the iframe how tall
it is (so the frame grows with whatever page the customer reaches)."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, Frame, Page, Route, expect

from slotline.events.testing.reading import eventually

from .conftest import PHONE, Stack, person

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

# The host page records which page of the frame posted its height; it is served on the
# web service's origin (by the browser itself) so the listener may read the sender's URL.
HOST = """<!doctype html><html lang="en"><title>Clinic</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<script>window.posted = [];
addEventListener("message", function (e) {
  if (e.data && e.data.slotline === "height") {
    posted.push(e.source.location.pathname + e.source.location.search);
  }
});</script>
<main><h1>Our clinic</h1><script src="/embed.js" data-booking="%s"></script></main>"""

LINKS = """() => [
  ...[...document.querySelectorAll("main a[href]")].filter(a => !a.hasAttribute("download"))
      .map(a => a.getAttribute("href")),
  ...[...document.querySelectorAll("main form[action]")].map(f => f.getAttribute("action")),
  ...[...document.querySelectorAll("[data-fragment]")].map(e => e.dataset.fragment),
].filter(u => u.startsWith("/"))"""


async def links_keep_embed(frame: Frame) -> list[str]:
    """The page's own links and form actions that would leave the embedded mode."""
    links: list[str] = await frame.evaluate(LINKS)
    assert links, f"no links on {frame.url}"
    return [u for u in links if parse_qs(urlsplit(u).query).get("embed") != ["1"]]


async def posted_its_height(page: Page, frame: Frame) -> None:
    here = urlsplit(frame.url)
    path = f"{here.path}?{here.query}"
    assert parse_qs(here.query).get("embed") == ["1"], frame.url

    async def posted() -> bool:
        sent: list[str] = await page.evaluate("window.posted")
        return path in sent

    await eventually(posted, timeout=10)


class TestTheEmbeddedFlow:
    async def test_every_link_and_redirect_keeps_embed_and_every_page_sizes_its_frame(
        self, stack: Stack, browser: Browser
    ) -> None:
        clinic = await stack.clinic(staff=1, rooms=1)  # one booking fills a time
        tenant = clinic.tenant_id
        tomorrow = (datetime.now(ZoneInfo("Europe/Athens")) + timedelta(days=1)).date()
        async with person(browser, PHONE) as page:

            async def host(route: Route) -> None:
                await route.fulfill(content_type="text/html", body=HOST % f"/{tenant}")

            await page.route(f"{stack.web_url}/embedding-site", host)
            await page.goto(f"{stack.web_url}/embedding-site")
            frame = page.frame_locator("iframe")
            await expect(frame.locator(".card__link").first).to_be_visible()
            inner = page.main_frame.child_frames[0]

            # the tenant's page (redirected to its one location): its services
            assert await links_keep_embed(inner) == []
            await posted_its_height(page, inner)
            await frame.locator(".card__link").first.click()

            # the calendar: days, times, the crumb back to the services
            await expect(frame.locator(".soonest a")).to_be_visible()
            await frame.locator(f'.days a[href*="day={tomorrow}"]').click()
            # after the clinic's hours the first page shows tomorrow already: wait for the
            # click's own page, not only for tomorrow being the day shown
            await inner.wait_for_url(f"**day={tomorrow}**")
            await inner.wait_for_load_state()
            await expect(frame.locator(".days a[aria-current=date]")).to_have_attribute(
                "href",
                f"{stack.page_of(clinic).removeprefix(stack.web_url)}?day={tomorrow}&embed=1",
            )
            assert await links_keep_embed(inner) == []
            await posted_its_height(page, inner)
            time_link = frame.locator(".times a").first
            form_url = await time_link.get_attribute("href")
            await time_link.click()

            # the form, then the redirect to the booking's page
            await expect(frame.locator("#name")).to_be_visible()
            assert await links_keep_embed(inner) == []
            await posted_its_height(page, inner)
            await frame.locator("#name").fill("Maria Papadopoulou")
            await frame.locator("#phone").fill("+30 694 123 4567")
            await frame.locator("button[type=submit]").click()
            await expect(frame.locator("h1")).to_contain_text("You are booked")
            await posted_its_height(page, inner)

            # the booking's page, its move and cancel pages (looked at, not used)
            booking_page = inner.url
            await expect(frame.locator('a[href*="/move"]')).to_be_visible()
            assert await links_keep_embed(inner) == []
            await frame.locator('a[href*="/move"]').click()
            await expect(frame.locator('form[action*="/reschedule"], .days').first).to_be_visible()
            assert await links_keep_embed(inner) == []
            await posted_its_height(page, inner)
            await inner.goto(booking_page)
            await frame.locator('a[href*="/cancel"]').click()
            await expect(frame.locator('form[action*="/cancel"]')).to_be_visible()
            assert await links_keep_embed(inner) == []
            await posted_its_height(page, inner)

            # the same time again: taken, its alternatives stay embedded
            assert form_url is not None
            await inner.goto(f"{stack.web_url}{form_url}")
            await expect(frame.locator(".times a").first).to_be_visible()
            assert await links_keep_embed(inner) == []
            await posted_its_height(page, inner)

            # a page that is not there sizes its frame too
            await inner.goto(f"{stack.web_url}/{tenant}/nowhere?embed=1")
            await expect(frame.locator("h1")).to_be_visible()
            await posted_its_height(page, inner)
