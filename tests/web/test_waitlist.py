"""The waitlist from the booking page: a customer who finds a day full joins its line
through the page (booking keeps the place, a WaitlistJoined is published) and is
offered the time a cancellation frees, which its claim link books; a refused form
keeps everything typed and says what to fix; and the whole path works with plain HTML
form posts (no JavaScript). axe-core checks the form and the place page, in both
languages, in ``test_accessibility``; the offer's two pages here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Browser, expect

from slotline.availability.demo import Clinic
from slotline.events.contract.waitlist import WaitlistJoined
from slotline.events.testing.reading import eventually
from slotline.events.testing.recorder import TopicRecorder
from slotline.events.testing.service import bearer
from slotline.events.topics import BOOKING_EVENTS
from slotline.web.settings import WebSettings
from slotline.web.wiring import build_app

from .conftest import PHONE, Stack, person, serious_violations

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

ATHENS = ZoneInfo("Europe/Athens")
SHORT_DAY = {"opens": time(9), "closes": time(11)}
"""One therapist, one room, open 9–11: the 9:00 booking (and its buffer) fills the day."""


@pytest.fixture(scope="module")
async def booking_events(package_kafka_bootstrap: str) -> AsyncIterator[TopicRecorder]:
    async with TopicRecorder(package_kafka_bootstrap, BOOKING_EVENTS) as recorder:
        yield recorder


def in_two_days() -> datetime:
    """9:00 in Athens two days ahead: bookable at any hour of the test run."""
    day = (datetime.now(UTC).astimezone(ATHENS) + timedelta(days=2)).date()
    return datetime.combine(day, time(9), ATHENS)


async def book(stack: Stack, clinic: Clinic, start: datetime) -> dict[str, Any]:
    booked = await stack.booking.client.post(
        f"/v1/public/{clinic.tenant_id}/bookings",
        json={
            "name": "Someone Earlier",
            "phone": "+306940000001",
            "service_id": str(clinic.service_id),
            "location_id": str(clinic.location_id),
            "start": start.isoformat(),
        },
    )
    assert booked.status_code == 201, booked.text
    card: dict[str, Any] = booked.json()
    return card


async def the_line(stack: Stack, clinic: Clinic, day: str) -> list[dict[str, Any]]:
    """The day's line as the front desk reads it from booking."""
    found = await stack.booking.client.get(
        "/v1/waitlist",
        params={
            "service_id": str(clinic.service_id),
            "location_id": str(clinic.location_id),
            "day": day,
        },
        headers=bearer("front_desk", clinic.tenant_id),
    )
    assert found.status_code == 200, found.text
    line: list[dict[str, Any]] = found.json()
    return line


class TestJoiningFromTheBookingPage:
    async def test_a_full_day_offers_the_waitlist_and_a_cancelled_time_reaches_the_customer(
        self, stack: Stack, browser: Browser, booking_events: TopicRecorder
    ) -> None:
        clinic = await stack.clinic(staff=1, rooms=1, **SHORT_DAY)
        start = in_two_days()
        day = start.date().isoformat()
        earlier = await book(stack, clinic, start)
        async with person(browser, PHONE) as page:
            # Given a day whose every time is taken
            full_day = page.locator(f'.days a[href*="day={day}"]')

            async def shown_full() -> bool:
                await page.goto(stack.page_of(clinic))
                return "Full" in await full_day.inner_text()

            await eventually(shown_full, timeout=20)
            await full_day.tap()
            await expect(page.locator("#calendar")).to_contain_text(
                "Every time on this day is taken."
            )
            # when the customer opens the waitlist and sends it without phone or e-mail
            await page.get_by_role("link", name="Join the waitlist").tap()
            await expect(page.locator("h1")).to_have_text("Join the waitlist")
            await page.fill("#earliest", "09:00")
            await page.fill("#latest", "10:00")
            await page.fill("#name", "Eleni Waiting")
            await page.get_by_role("button", name="Join the waitlist").tap()

            # then the phone field says what to do, focus is on the summary, nothing is lost
            problems = page.locator("#problems")
            await expect(problems).to_be_focused()
            await expect(problems).to_contain_text("so we can send you the claim link")
            phone = page.locator("#phone")
            await expect(phone).to_have_attribute("aria-invalid", "true")
            described = await phone.get_attribute("aria-describedby") or ""
            assert "phone-error" in described.split()
            await expect(page.locator("#phone-error")).to_contain_text("phone number or an e-mail")
            await expect(page.locator("#name")).to_have_value("Eleni Waiting")
            await expect(page.locator("#earliest")).to_have_value("09:00")
            await expect(page.locator("#latest")).to_have_value("10:00")

            # and with a phone number it is a place in the line
            await phone.fill("+30 694 555 0101")
            await page.get_by_role("button", name="Join the waitlist").tap()
            await expect(page.locator("h1")).to_have_text("You're on the waitlist")
            body = page.locator("main")
            await expect(body).to_contain_text("You are number 1 in line.")
            await expect(body).to_contain_text("We'll text you a claim link")
            await expect(body).to_contain_text("The offer is held for 15 minutes")
            await expect(body).to_contain_text("Times from 09:00 until 10:00.")

            line = await the_line(stack, clinic, day)
            assert [(e["status"], e["position"]) for e in line] == [("waiting", 1)]
            assert datetime.fromisoformat(line[0]["earliest"]) == start
            entry_id = line[0]["entry_id"]

            async def published() -> bool:
                return any(
                    m.entry_id == entry_id and m.tenant_id == clinic.tenant_id
                    for m in booking_events.published(WaitlistJoined)
                )

            await eventually(published, timeout=20)

            # when the booking that filled the day is cancelled, the time is offered to them
            async with httpx.AsyncClient(timeout=30) as api:
                cancelled = await api.post(earlier["manage_url"] + "/cancel", json={})
            assert cancelled.status_code == 200, cancelled.text
            place = page.url

            async def offered() -> bool:
                await page.goto(place)
                return await page.locator("h1").inner_text() == "A time is held for you"

            await eventually(offered, timeout=30)
            await expect(page.locator("main")).to_contain_text("at 09:00 is held for you")
            assert await serious_violations(page) == [], "the offer on the place page"
            # the offer's claim link (in its message, and behind the place page's button)
            claim = await page.locator("form[action$='/claim']").get_attribute("action")
            assert claim is not None
            await page.goto(f"{stack.web_url}{claim.removesuffix('/claim')}")
            await expect(page.locator(".badge")).to_have_text("Held for you")
            assert await serious_violations(page) == [], "the offer on its manage link"
            await page.get_by_role("button", name="Book this time").tap()
            await expect(page.locator("h1")).to_contain_text("You are booked", timeout=20_000)
            await expect(page.locator(".badge")).to_have_text("Confirmed")
            assert urlsplit(page.url).path == claim.removesuffix("/claim")


class TestThePlainFormPath:
    async def test_plain_posts_join_and_leave_through_the_place_page_in_greek_embedded(
        self, stack: Stack
    ) -> None:
        clinic = await stack.clinic(staff=1, rooms=1, **SHORT_DAY)
        day = in_two_days().date().isoformat()
        base = stack.page_of(clinic)
        async with httpx.AsyncClient(timeout=30, headers={"Accept-Language": "el"}) as client:
            form = await client.get(f"{base}/waitlist", params={"day": day, "embed": "1"})
            assert form.status_code == 200, form.text[:300]
            assert "Μπείτε στη λίστα αναμονής" in form.text
            assert 'action="/' in form.text
            assert '/waitlist?embed=1"' in form.text
            joined = await client.post(
                f"{base}/waitlist?embed=1",
                data={"day": day, "name": "Nikos Plain", "email": "nikos@example.com"},
            )
            assert joined.status_code == 303, joined.text[:300]
            where = joined.headers["location"]
            assert "/waitlist/" in where
            assert "via=email" in where
            assert "embed=1" in where
            place = await client.get(f"{stack.web_url}{where}")
        assert place.status_code == 200, place.text[:300]
        assert "Είστε στη λίστα αναμονής" in place.text
        assert "Θα σας στείλουμε e-mail" in place.text
        assert "Οποιαδήποτε ώρα της μέρας." in place.text
        assert [e["status"] for e in await the_line(stack, clinic, day)] == ["waiting"]
        async with httpx.AsyncClient(timeout=30, headers={"Accept-Language": "el"}) as client:
            left = await client.post(f"{stack.web_url}{where.split('?')[0]}/leave?embed=1")
            assert left.status_code == 303
            assert left.headers["location"].endswith("?embed=1")
            after = await client.get(f"{stack.web_url}{left.headers['location']}")
        assert "Βγήκατε από τη λίστα αναμονής." in after.text
        assert [e["status"] for e in await the_line(stack, clinic, day)] == ["left"]

    async def test_each_refusal_keeps_what_was_typed_and_says_what_to_do(
        self, stack: Stack
    ) -> None:
        clinic = await stack.clinic(staff=1, rooms=1, **SHORT_DAY)
        day = in_two_days().date().isoformat()
        settings = WebSettings(
            log_json=True,
            web_availability_url=stack.availability.base_url,
            web_booking_url=stack.booking.base_url,
            web_booking_rate_limit="2/minute",
        )
        app = build_app(settings)
        path = stack.page_of(clinic).removeprefix(stack.web_url) + "/waitlist"
        typed = {"day": day, "name": "Maria Typed", "earliest": "9:30", "latest": "10:00"}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://web") as client:
            # the page's own checks: no phone and no e-mail, times the wrong way round
            refused = await client.post(path, data={**typed, "latest": "09:00"})
            assert refused.status_code == 422
            assert 'id="phone-error"' in refused.text
            assert 'id="latest-error"' in refused.text
            assert "before the" in refused.text
            assert 'value="Maria Typed"' in refused.text
            assert 'value="09:30"' in refused.text
            # booking's own check: a number no numbering plan has, named on the phone field
            refused = await client.post(path, data={**typed, "phone": "+30 12 34"})
            assert refused.status_code == 422, refused.text[:300]
            assert 'aria-describedby="phone-error contact-hint"' in refused.text
            assert "Check the phone number" in refused.text
            # booking not answering: the details stay, nothing joined
            upstream = app.state.web.services.booking.upstream.client
            reachable = upstream.base_url
            upstream.base_url = "http://127.0.0.1:9"  # discard port: nothing listens
            down = await client.post(path, data={**typed, "phone": "+306945550102"})
            upstream.base_url = reachable
            assert down.status_code == 503
            assert "not on the waitlist yet" in down.text
            assert 'value="+306945550102"' in down.text
            # too many attempts from one address
            busy = await client.post(path, data={**typed, "phone": "+306945550102"})
            assert busy.status_code == 429
            assert "Too many attempts" in busy.text
            assert 'value="Maria Typed"' in busy.text
        assert await the_line(stack, clinic, day) == []

    async def test_a_line_booking_will_not_open_is_said_plainly(self, stack: Stack) -> None:
        """A day more than a year ahead (booking's 409), and a service that takes a
        payment when booking (booking keeps no line for it: the page does not offer one)."""
        clinic = await stack.clinic(staff=1, rooms=1, **SHORT_DAY)
        far = (in_two_days() + timedelta(days=400)).date().isoformat()
        base = stack.page_of(clinic)
        async with httpx.AsyncClient(timeout=30) as client:
            refused = await client.post(
                f"{base}/waitlist", data={"day": far, "name": "Far Ahead", "phone": "+306945550103"}
            )
            assert refused.status_code == 409, refused.text[:300]
            assert "cannot be joined" in refused.text
            assert 'value="Far Ahead"' in refused.text

            prepaid = await stack.clinic(staff=1, rooms=1, **SHORT_DAY)
            policy = await stack.booking.client.put(
                "/v1/policies/standard",
                json={"payment": "deposit", "price_minor": 6000, "deposit_minor": 2000},
                headers=bearer("manager", prepaid.tenant_id),
            )
            assert policy.status_code == 200, policy.text
            day = in_two_days().date().isoformat()
            page = stack.page_of(prepaid)
            closed = await client.get(f"{page}/waitlist", params={"day": day})
            assert closed.status_code == 409
            assert "has no waitlist" in closed.text
            assert "<form" not in closed.text.split("<main", 1)[1]
            calendar = await client.get(page, params={"day": day})
            assert calendar.status_code == 200
            assert "Times are in" in calendar.text
            assert "Join the waitlist" not in calendar.text
        assert await the_line(stack, clinic, far) == []
