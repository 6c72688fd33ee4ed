"""Bad input never shows a stack trace: a mangled link, a made-up time, a forged form,
an expired manage link and a service that does not answer each get a page saying
what to do next (and an API client of the manage link gets JSON)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from slotline.events.local.infra import free_port
from slotline.events.local.serving import served
from slotline.web.settings import WebSettings
from slotline.web.wiring import build_app

from .conftest import Stack, staff_token

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def assert_helpful_page(response: httpx.Response, status: int, words: str) -> None:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    assert words in response.text
    assert "Traceback" not in response.text
    assert 'File "' not in response.text


class TestBadInput:
    async def test_each_bad_request_gets_a_page_that_says_what_to_do(self, stack: Stack) -> None:
        clinic = await stack.clinic()
        page = stack.page_of(clinic)
        async with httpx.AsyncClient(timeout=30) as client:
            assert_helpful_page(
                await client.get(f"{page}/book", params={"start": "next tuesday"}),
                422,
                "Go back",
            )
            assert_helpful_page(
                await client.get(f"{page}/book", params={"start": "2020-01-01T10:00:00+02:00"}),
                409,
                "not free any more",
            )
            assert_helpful_page(
                await client.get(page, params={"day": "31-31-2026"}), 422, "Go back"
            )
            assert_helpful_page(
                await client.post(f"{page}/book", data={"name": "x"}), 422, "Go back"
            )
            assert_helpful_page(
                await client.get(f"{stack.web_url}/{clinic.tenant_id}/no-such-place"),
                404,
                "could not find",
            )
            forged = "x" * 40
            assert_helpful_page(
                await client.get(f"{stack.web_url}/v1/manage/{forged}"), 404, "could not find"
            )
            api = await client.get(
                f"{stack.web_url}/v1/manage/{forged}", headers={"Accept": "application/json"}
            )
            assert api.status_code == 404
            assert api.headers["content-type"].startswith("application/json")

    async def test_a_console_form_without_its_csrf_secret_is_refused(self, stack: Stack) -> None:
        clinic = await stack.clinic()
        async with httpx.AsyncClient(base_url=stack.web_url, timeout=30) as client:
            response = await client.post("/console/sign-out", data={})
            assert response.status_code == 303  # no session: to the sign-in page
            assert response.headers["location"].startswith("/console/sign-in")
            assert_helpful_page(  # another site signing the desk in as someone else
                await client.post(
                    "/console/sign-in",
                    data={"token": staff_token(clinic.tenant_id)},
                    headers={"Origin": "https://evil.example"},
                ),
                403,
                "another",
            )
            assert not client.cookies, "no session from the refused sign-in"
            signed_in = await client.post(
                "/console/sign-in", data={"token": staff_token(clinic.tenant_id)}
            )
            assert signed_in.status_code == 303
            assert_helpful_page(
                await client.post("/console/sign-out", data={"csrf": "guessed"}),
                403,
                "expired",
            )
            assert_helpful_page(
                await client.post(
                    "/console/sign-out", data={}, headers={"Origin": "https://evil.example"}
                ),
                403,
                "another",
            )
            still = await client.get("/console/today")
            assert still.status_code == 200, "the refused forms did nothing"


async def test_a_service_that_does_not_answer_gets_a_try_again_page() -> None:
    dead = "http://127.0.0.1:9"  # discard port: nothing listens
    app = build_app(WebSettings(web_booking_url=dead, web_availability_url=dead, log_json=True))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://web") as client:
        response = await client.get("/demo")
    assert_helpful_page(response, 503, "Nothing was booked or charged")


async def test_a_service_that_goes_away_under_a_signed_in_desk_gets_a_try_again_page(
    stack: Stack,
) -> None:
    """The real booking and availability answer, call-intake's address is a closed port:
    the console still signs in, and the callbacks page says what to do, no trace."""
    clinic = await stack.clinic()
    closed = f"http://127.0.0.1:{free_port()}"  # a port nobody listens on
    settings = WebSettings(
        log_json=True,
        web_availability_url=stack.availability.base_url,
        web_booking_url=stack.booking.base_url,
        web_payments_url=stack.payments.base_url,
        web_call_intake_url=closed,
    )
    transport = httpx.ASGITransport(app=build_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://web") as client:
        signed_in = await client.post(
            "/console/sign-in", data={"token": staff_token(clinic.tenant_id)}
        )
        assert signed_in.status_code == 303
        page = await client.get("/console/callbacks")
        assert_helpful_page(page, 503, "try again")
        assert 'href="/console/callbacks"' in page.text  # the way back: try again
        assert closed not in page.text  # nothing of the failure itself


async def test_a_service_that_answers_nonsense_gets_the_something_went_wrong_page() -> None:
    """A real upstream that answers 200 with a body that is not what it promises (a
    broken deploy, a proxy's error page): the web fails on it — the 500 page, no trace."""

    async def nonsense(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"<html>maintenance</html>"})

    async with served(nonsense, free_port()) as broken:
        app = build_app(
            WebSettings(web_booking_url=broken, web_availability_url=broken, log_json=True)
        )
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://web") as client:
            response = await client.get("/demo")
    assert_helpful_page(response, 500, "went wrong")
    assert "maintenance" not in response.text
