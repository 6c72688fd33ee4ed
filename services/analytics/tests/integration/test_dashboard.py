"""The dashboard page: the same figures, server-rendered, for a browser with a token."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from slotline.analytics.testing.story import OCTOBER, october
from slotline.events.auth import DEV_SECRET, TokenIssuer
from slotline.events.testing.reading import eventually
from slotline.events.testing.service import RunningService, bearer

from .publishing import publish

pytestmark = pytest.mark.integration


class TestDashboard:
    async def test_it_shows_the_periods_kpis(
        self, service: RunningService, module_kafka_bootstrap: str
    ) -> None:
        clinic = f"clinic-{uuid.uuid4().hex[:8]}"
        await publish(module_kafka_bootstrap, *october(clinic))
        params = {"from": OCTOBER[0], "to": OCTOBER[1]}

        async def page() -> str:
            response = await service.client.get(
                "/dashboard", params=params, headers=bearer("manager", clinic)
            )
            assert response.status_code == 200
            return response.text

        async def complete() -> bool:
            html = await page()
            return all(
                part in html
                for part in (
                    "4 of 5 requests",
                    "2 of 3 calls",
                    "1 of 1 cancelled",
                    "1 of 2;",
                    "1 of 1 freed slots filled",
                )
            )

        await eventually(complete, timeout=30)
        html = await page()
        assert "80.0 %" in html  # booking conversion
        assert "66.7 %" in html  # missed-call rate
        assert "2.5 min" in html  # time to book, median
        assert "24.0 h" in html  # time to fill
        assert "1 of 2 offers claimed; 3 joined, 1 passed, 1 left" in html  # waitlist
        # waitlist time to fill: b4's slot, 1,199 s from its freeing to the claim
        assert "20.0 min" in html
        assert "median of 1; p90 20.0 min; 1 of 1 freed slots filled" in html
        assert "<td>whatsapp</td><td>1</td><td>1</td><td>100.0 %</td>" in html

    async def test_without_a_token_it_asks_for_one_and_keeps_it_in_a_cookie(
        self, service: RunningService
    ) -> None:
        asked = await service.client.get("/dashboard")
        assert asked.status_code == 401
        assert 'name="token"' in asked.text

        token = TokenIssuer(DEV_SECRET).mint("ana", "clinic-x", ["analyst"], _hours(1))
        signed_in = await service.client.post(
            "/dashboard/session", data={"token": token}, follow_redirects=True
        )

        assert signed_in.status_code == 200
        assert "KPIs of clinic-x" in signed_in.text
        service.client.cookies.clear()

    async def test_a_token_without_a_reading_role_is_refused(self, service: RunningService) -> None:
        response = await service.client.get("/dashboard", headers=bearer("channel", "clinic-x"))
        assert response.status_code == 401
        assert "no analyst or manager role" in response.text


class TestWhatABrowserIsTold:
    """Every answer of a service says how a browser may treat it (shared by every
    service: ``slotline.events.security_headers``)."""

    async def test_a_page_keeps_to_its_own_styles_and_scripts_and_is_never_framed(
        self, service: RunningService
    ) -> None:
        page = await service.client.get("/dashboard")
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["referrer-policy"] == "no-referrer"

    async def test_json_and_refusals_may_load_nothing_at_all(self, service: RunningService) -> None:
        answers = [
            await service.client.get("/healthz"),
            await service.client.get("/v1/no-such-route"),
            await service.client.post(
                "/dashboard/session", content=b"x" * (1024 * 1024), headers=_form()
            ),
        ]
        assert [r.status_code for r in answers] == [200, 404, 413]
        for response in answers:
            policy = response.headers["content-security-policy"]
            assert policy.startswith("default-src 'none'"), (response.status_code, policy)
            assert response.headers["x-content-type-options"] == "nosniff"


def _form() -> dict[str, str]:
    return {"content-type": "application/x-www-form-urlencoded"}


def _hours(n: int) -> timedelta:
    return timedelta(hours=n)
