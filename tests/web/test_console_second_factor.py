"""Issue 17 item 16 in the console: where the owner requires a second factor, a staff
member signing in for the first time sets up an authenticator app (and gets recovery
codes) before the console opens; afterwards each sign-in asks for a code. In a browser,
against the running booking service."""

from __future__ import annotations

import pyotp
import pytest
from playwright.async_api import Browser, expect

from slotline.events.testing.service import bearer

from .conftest import DESKTOP, Stack, person, serious_violations, staff_token

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


async def test_a_required_second_factor_is_set_up_then_asked_at_every_sign_in(
    stack: Stack, browser: Browser
) -> None:
    clinic = await stack.clinic()
    tenant = clinic.tenant_id
    required = await stack.booking.client.put(
        "/v1/staff/mfa-policy", json={"required": True}, headers=bearer("owner", tenant)
    )
    assert required.status_code == 200, required.text
    token = staff_token(tenant, subject="desk-mfa")
    async with person(browser, DESKTOP) as desk:
        await desk.goto(f"{stack.web_url}/console/sign-in")
        await desk.fill("#token", token)
        await desk.click("button[type=submit]")
        await desk.wait_for_url("**/console/sign-in/enrol**")
        secret = (await desk.locator("#secret").inner_text()).strip()
        codes = await desk.locator(".recovery-codes code").all_inner_texts()
        assert len(codes) == 10
        assert await serious_violations(desk) == []
        # the console stays closed until the factor is set up
        await desk.goto(f"{stack.web_url}/console/today")
        await desk.wait_for_url("**/console/sign-in**")
        await desk.goto(f"{stack.web_url}/console/sign-in/enrol")  # a new secret: reload
        secret = (await desk.locator("#secret").inner_text()).strip()
        codes = await desk.locator(".recovery-codes code").all_inner_texts()

        totp = pyotp.TOTP(secret)
        await desk.fill("#code", f"{(int(totp.now()) + 1) % 10**6:06d}")
        await desk.click("button[type=submit]")
        await expect(desk.locator("#problems")).to_be_visible()
        assert (await desk.locator("#secret").inner_text()).strip() == secret  # same page
        await desk.fill("#code", totp.now())
        await desk.click("button[type=submit]")
        await desk.wait_for_url("**/console/today**")

        await desk.click("text=Sign out")
        await desk.wait_for_url("**/console/sign-in?signed_out=1")
        await desk.fill("#token", token)
        await desk.click("button[type=submit]")
        await desk.wait_for_url("**/console/sign-in/code**")
        assert await serious_violations(desk) == []
        await desk.fill("#code", codes[0])  # the app's code was used; a recovery code
        await desk.click("button[type=submit]")
        await desk.wait_for_url("**/console/today**")

    status = await stack.booking.client.get(
        "/v1/staff/me/mfa", headers=bearer("front_desk", tenant, "desk-mfa")
    )
    assert status.json() == {"enrolled": True, "required": True, "recovery_codes_left": 9}


async def test_without_a_second_factor_or_the_rule_the_token_signs_in_at_once(
    stack: Stack, browser: Browser
) -> None:
    clinic = await stack.clinic()
    async with person(browser, DESKTOP) as desk:
        await desk.goto(f"{stack.web_url}/console/sign-in/code")
        await desk.wait_for_url("**/console/sign-in?next=**")  # no token waiting: step one
        await desk.fill("#token", staff_token(clinic.tenant_id, subject="desk-plain"))
        await desk.click("button[type=submit]")
        await desk.wait_for_url("**/console/today**")


async def test_a_staff_member_may_set_up_a_second_factor_the_tenant_does_not_require(
    stack: Stack, browser: Browser
) -> None:
    clinic = await stack.clinic()
    tenant = clinic.tenant_id
    token = staff_token(tenant, subject="desk-by-choice")
    async with person(browser, DESKTOP) as desk:
        await desk.goto(f"{stack.web_url}/console/sign-in")
        await desk.fill("#token", token)
        await desk.check("input[name=second_factor]")
        await desk.click("button[type=submit]")
        await desk.wait_for_url("**/console/sign-in/enrol**")
        await expect(desk.locator("main")).to_contain_text("You asked to sign in with a code")
        assert await serious_violations(desk) == []
        secret = (await desk.locator("#secret").inner_text()).strip()
        await desk.fill("#code", pyotp.TOTP(secret).now())
        await desk.click("button[type=submit]")
        await desk.wait_for_url("**/console/today**")

        await desk.click("text=Sign out")
        await desk.wait_for_url("**/console/sign-in?signed_out=1")
        await desk.fill("#token", token)  # the box left unticked: the factor is asked anyway
        await desk.click("button[type=submit]")
        await desk.wait_for_url("**/console/sign-in/code**")

    status = await stack.booking.client.get(
        "/v1/staff/me/mfa", headers=bearer("front_desk", tenant, "desk-by-choice")
    )
    assert status.json() == {"enrolled": True, "required": False, "recovery_codes_left": 10}
