"""A deposit taken through the simulated gateway, and the front desk: a receptionist
signs in, books a caller from a free cell, a second console shows the booking without
a reload, and a callback task is cleared before its SLA."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from playwright.async_api import Browser, expect

from slotline.events.testing.reading import eventually
from slotline.events.testing.service import bearer

from .conftest import DESKTOP, PHONE, Stack, person, sign_in, staff_token

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

DEPOSIT = {
    "payment": "deposit",
    "price_minor": 6000,
    "deposit_minor": 2000,
    "late_cancellation_fee_minor": 2000,
}


class TestDeposit:
    async def test_a_deposit_is_paid_through_the_simulated_gateway_then_confirmed(
        self, stack: Stack, browser: Browser
    ) -> None:
        clinic = await stack.clinic()
        policy = await stack.booking.client.put(
            "/v1/policies/standard", json=DEPOSIT, headers=bearer("manager", clinic.tenant_id)
        )
        assert policy.status_code == 200, policy.text
        async with person(browser, PHONE) as page:
            await page.goto(stack.page_of(clinic))
            await expect(page.locator(".muted").first).to_contain_text("to pay when booking")
            await page.locator(".days a").nth(2).tap()
            await page.locator(".times a").first.tap()
            await page.fill("#name", "Ana Deposit")
            await page.fill("#email", "ana@example.com")
            await page.get_by_role("button", name="Continue to payment").tap()
            await expect(page.locator("h1")).to_contain_text("to book")
            await page.get_by_label("Card that is declined").check()
            await page.locator("button[type=submit]").tap()
            await expect(page.locator("#problems")).to_contain_text("did not go through")
            await page.get_by_label("Visa ending 4242").check()
            await page.locator("button[type=submit]").tap()
            await expect(page.locator("h1")).to_contain_text("You are booked", timeout=30_000)
            await expect(page.locator(".facts")).to_contain_text("20.00")

            async def receipt_shown() -> bool:
                await page.reload()
                return await page.get_by_role("link", name="Payment receipt").count() > 0

            await eventually(receipt_shown, timeout=30)


class TestFrontDesk:
    async def test_a_receptionist_books_a_caller_and_another_console_sees_it_live(
        self, stack: Stack, browser: Browser
    ) -> None:
        clinic = await stack.clinic()
        token = staff_token(clinic.tenant_id)
        async with person(browser, DESKTOP) as desk, person(browser, DESKTOP) as other:
            await sign_in(desk, stack.web_url, token)
            await sign_in(other, stack.web_url, staff_token(clinic.tenant_id, subject="desk-2"))
            tomorrow = "/console/today?day=" + _days_ahead(1)
            await other.goto(stack.web_url + tomorrow)
            await expect(other.locator("#sheet[data-live-ready]")).to_have_count(1)
            await desk.goto(stack.web_url + tomorrow)
            await desk.locator(".cell--free a").first.click()  # click 1: a free cell
            await desk.fill("#name", "Caller Giorgos")
            await desk.fill("#phone", "+30 694 555 0101")
            await desk.get_by_role("button", name="Book", exact=True).click()  # click 2
            await expect(desk.locator(".notice--ok")).to_contain_text("Booked")
            await expect(other.locator(".cell--booking").first).to_contain_text(
                "Caller Giorgos", timeout=20_000
            )
            await desk.locator(".cell--booking a").first.click()
            await desk.get_by_role("button", name="Arrived").click()
            await expect(desk.locator(".notice--ok")).to_contain_text("arrived")
            await desk.get_by_role("link", name="Move").click()
            await expect(desk.locator(".notice")).to_contain_text("free")
            await desk.locator(".days a").nth(3).click()
            await desk.locator(".times button").first.click()
            await expect(desk.locator(".notice--ok")).to_contain_text("Moved")
            await desk.fill("#reason", "caller phoned to cancel")
            await desk.get_by_role("button", name="Cancel this booking").click()
            await expect(desk.locator(".notice--ok")).to_contain_text("Cancelled")
            await expect(desk.locator(".badge")).to_have_text("Cancelled")

    async def test_a_callback_task_is_cleared_before_its_sla(
        self, stack: Stack, browser: Browser
    ) -> None:
        clinic = await stack.clinic()
        desk_header = bearer("front_desk", clinic.tenant_id)
        lead = await stack.call_intake.client.post(
            "/v1/leads",
            json={"lead_id": uuid4().hex, "phone": "+306945550199", "name": "Web Lead"},
            headers=desk_header,
        )
        assert lead.status_code == 202, lead.text
        async with person(browser, DESKTOP) as desk:
            await sign_in(desk, stack.web_url, staff_token(clinic.tenant_id))
            await desk.goto(f"{stack.web_url}/console/callbacks")
            task = desk.locator(".task").filter(has_text="+306945550199")
            await expect(task).to_be_visible(timeout=20_000)
            await expect(task.locator(".sla__left")).to_have_text(_ticking())
            await task.get_by_role("button", name="Reached").click()
            await expect(desk.locator(".task").filter(has_text="+306945550199")).to_have_count(0)
        closed = await stack.call_intake.client.get("/v1/callbacks", headers=desk_header)
        assert all(t["customer_phone"] != "+306945550199" for t in closed.json())


class TestFromTheQueueToTheEnd:
    async def test_a_callback_is_booked_for_its_caller_then_marked_completed_or_no_show(
        self, stack: Stack, browser: Browser, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        clinic = await stack.clinic()
        staff = bearer("front_desk", clinic.tenant_id)
        lead = await stack.call_intake.client.post(
            "/v1/leads",
            json={"lead_id": uuid4().hex, "phone": "+306945550142", "name": "Queue Caller"},
            headers=staff,
        )
        assert lead.status_code == 202, lead.text
        async with person(browser, DESKTOP) as desk:
            await sign_in(desk, stack.web_url, staff_token(clinic.tenant_id))
            await desk.goto(f"{stack.web_url}/console/callbacks")
            task = desk.locator(".task").filter(has_text="+306945550142")
            await task.get_by_role("link", name="Book").click()
            await desk.wait_for_url("**/console/today?phone=*")
            await desk.goto(f"{desk.url}&day={_days_ahead(1)}")  # the caller is kept
            await desk.locator(".cell--free a").first.click()
            await expect(desk.locator("#phone")).to_have_value("+306945550142")
            await desk.fill("#name", "Queue Caller")
            await desk.get_by_role("button", name="Book", exact=True).click()
            await expect(desk.locator(".notice--ok")).to_contain_text("Booked")
            await desk.locator(".cell--booking a").first.click()
            booking_id = desk.url.rsplit("/", 1)[-1].split("?")[0]
            card = await stack.booking.client.get(f"/v1/bookings/{booking_id}", headers=staff)
            assert card.json()["channel"] == "phone"
            customer = await stack.booking.client.get(
                f"/v1/customers/{card.json()['customer_id']}", headers=staff
            )
            assert "6945550142" in str(customer.json()), customer.text

            await desk.get_by_role("button", name="Completed").click()  # not started yet
            await expect(desk.locator(".notice--error")).to_be_visible()
            start = datetime.fromisoformat(card.json()["start"])
            began = start + timedelta(minutes=5)  # booking's clock: the appointment began
            monkeypatch.setattr(stack.bookings, "clock", lambda: began)
            await desk.get_by_role("button", name="Completed").click()
            await expect(desk.locator(".notice--ok")).to_contain_text("completed")
            await expect(desk.locator(".badge")).to_have_text("Completed")

            await desk.goto(f"{stack.web_url}/console/today?day={_days_ahead(1)}")
            await desk.locator(".cell--free a").first.click()
            await desk.fill("#name", "Absent Caller")
            await desk.fill("#phone", "+30 694 555 0143")
            await desk.get_by_role("button", name="Book", exact=True).click()
            await expect(desk.locator(".notice--ok")).to_contain_text("Booked")
            await desk.locator(".cell--booking a").filter(has_text="Absent Caller").first.click()
            over = datetime.now(UTC) + timedelta(days=3)  # past any time tomorrow
            monkeypatch.setattr(stack.bookings, "clock", lambda: over)
            await desk.get_by_role("button", name="No-show").click()
            await expect(desk.locator(".notice--ok")).to_contain_text("no-show")
            await expect(desk.locator(".badge")).to_have_text("Missed (no-show)")


class TestTapTargets:
    async def test_every_free_cell_is_at_least_44_by_44_px_on_a_phone_and_a_desktop(
        self, stack: Stack, browser: Browser
    ) -> None:
        """WCAG 2.2 target size: a free cell is a tap target a finger hits."""
        clinic = await stack.clinic()
        for device in (PHONE, DESKTOP):
            async with person(browser, device) as desk:
                await sign_in(desk, stack.web_url, staff_token(clinic.tenant_id))
                await desk.goto(f"{stack.web_url}/console/today?day={_days_ahead(1)}")
                cells = desk.locator(".cell--free a")
                await expect(cells.first).to_be_visible()
                assert await cells.count() > 10
                # Every cell measured in one call: the live grid may be drawn again
                # between two calls (a cell looked up by index was then detached).
                smallest: list[float] = await cells.evaluate_all(
                    """cells => [Math.min(...cells.map(c => c.getBoundingClientRect().width)),
                                 Math.min(...cells.map(c => c.getBoundingClientRect().height))]"""
                )
                assert min(smallest) >= 44, (device, smallest)


def _days_ahead(days: int) -> str:
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    return (
        (datetime.now(UTC).astimezone(ZoneInfo("Europe/Athens")) + timedelta(days=days))
        .date()
        .isoformat()
    )


def _ticking() -> re.Pattern[str]:
    return re.compile(r"^1[0-5]:\d\d$|^\d:\d\d$")
