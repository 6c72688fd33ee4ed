"""What the customer is told before they confirm, and what the front desk finds: the
manage page states the late-cancellation and no-show fees in plain words (English and
Greek), even inside the free window; a caller who only called is found by phone and
their timeline opens."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

import httpx
import pytest

from slotline.availability.demo import Clinic
from slotline.events.contract.timeline import LineKind
from slotline.events.testing.reading import eventually
from slotline.events.testing.service import bearer

from .conftest import Stack, staff_token

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

FEES = {"late_cancellation_fee_minor": 2500, "no_show_fee_minor": 4000}


async def book_in_three_days(stack: Stack, clinic: Clinic, phone: str) -> str:
    """A confirmed booking three days ahead (inside the free window); its manage path."""
    staff = bearer("staff", clinic.tenant_id)
    slots = await stack.availability.client.get(
        "/v1/slots",
        params={
            "service_id": str(clinic.service_id),
            "from": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
            "limit": 1,
        },
        headers=staff,
    )
    start = slots.json()[0]["start"]
    booked = await stack.booking.client.post(
        "/v1/bookings",
        json={
            "name": "Eleni Fees",
            "phone": phone,
            "service_id": str(clinic.service_id),
            "location_id": str(clinic.location_id),
            "start": start,
        },
        headers=bearer("front_desk", clinic.tenant_id),
    )
    assert booked.status_code == 201, booked.text
    return urlsplit(str(booked.json()["manage_url"])).path


async def page(stack: Stack, path: str, language: str) -> str:
    async with httpx.AsyncClient(base_url=stack.web_url) as web:
        response = await web.get(path, headers={"Accept-Language": language})
    assert response.status_code == 200, response.text
    return " ".join(response.text.split())


class TestTheManagePageStatesTheFees:
    async def test_inside_the_free_window_it_says_what_late_cancelling_and_not_coming_cost(
        self, stack: Stack
    ) -> None:
        clinic = await stack.clinic()
        policy = await stack.booking.client.put(
            "/v1/policies/standard", json=FEES, headers=bearer("manager", clinic.tenant_id)
        )
        assert policy.status_code == 200, policy.text
        manage = await book_in_three_days(stack, clinic, "+30 694 555 0111")
        terms: dict[str, Any] = (await stack.booking.client.get(f"{manage}/terms")).json()
        assert terms["within_free_window"] is True
        assert terms["late_cancellation_fee"]["amount_minor"] == 2500
        assert terms["no_show_fee"]["amount_minor"] == 4000

        english = await page(stack, manage, "en")
        assert "You can cancel for free until" in english
        assert "cancelling costs €25.00" in english
        assert "without cancelling costs €40.00" in english
        greek = await page(stack, manage, "el")
        assert "η ακύρωση κοστίζει 25,00" in greek
        assert "χωρίς να ακυρώσετε, η χρέωση είναι 40,00" in greek

    async def test_without_fees_it_says_that_late_cancelling_and_not_coming_cost_nothing(
        self, stack: Stack
    ) -> None:
        clinic = await stack.clinic()
        manage = await book_in_three_days(stack, clinic, "+30 694 555 0112")
        english = await page(stack, manage, "en")
        assert "Cancelling later is free too." in english
        assert "Not coming without cancelling costs nothing" in english


@asynccontextmanager
async def console(
    stack: Stack, tenant: str, language: str = "en"
) -> AsyncIterator[httpx.AsyncClient]:
    """A receptionist's signed-in console (the session cookie kept by the client)."""
    async with httpx.AsyncClient(
        base_url=stack.web_url,
        headers={"Accept-Language": language, "Origin": stack.web_url},
    ) as desk:
        signed = await desk.post("/console/sign-in", data={"token": staff_token(tenant)})
        assert signed.status_code == 303, signed.text
        yield desk


class TestTheFrontDeskFindsSomeoneWhoOnlyCalled:
    async def test_a_lead_is_found_by_phone_and_by_name_and_their_timeline_opens(
        self, stack: Stack
    ) -> None:
        tenant = f"t{uuid4().hex[:10]}"
        lead = await stack.call_intake.client.post(
            "/v1/leads",
            json={"lead_id": uuid4().hex, "phone": "+306945550133", "name": "Nikos Kalon"},
            headers=bearer("front_desk", tenant),
        )
        assert lead.status_code == 202, lead.text
        async with console(stack, tenant) as desk:
            found = ""

            async def listed() -> bool:
                nonlocal found
                found = (await desk.get("/console/customers", params={"q": "555 0133"})).text
                return "Nikos Kalon" in found

            await eventually(listed, timeout=20)
            assert "Called, no booking yet" in found
            by_name = await desk.get("/console/customers", params={"q": "kalon"})
            assert "+306945550133" in by_name.text
            link = re.search(r'href="(/console/customers/[0-9a-f-]{36})"', found)
            assert link is not None, found
            timeline = await desk.get(link.group(1))
            assert timeline.status_code == 200, timeline.text
            assert "Nikos Kalon" in timeline.text
            assert 'class="timeline"' in timeline.text
            unknown = await desk.get(f"/console/customers/{uuid4()}")
            assert unknown.status_code == 404


class TestTheTimelineReadsInThePagesLanguage:
    async def test_each_line_is_said_in_greek_from_its_facts_and_in_english_alike(
        self, stack: Stack
    ) -> None:
        clinic = await stack.clinic()
        tenant = clinic.tenant_id
        lead = await stack.call_intake.client.post(
            "/v1/leads",
            json={"lead_id": uuid4().hex, "phone": "+306945550144", "name": "Sofia Lines"},
            headers=bearer("front_desk", tenant),
        )
        assert lead.status_code == 202, lead.text
        await book_in_three_days(stack, clinic, "+30 694 555 0144")
        async with console(stack, tenant, "el") as desk:
            found = (await desk.get("/console/customers", params={"q": "5550144"})).text
            link = re.search(r'href="(/console/customers/[0-9a-f-]{36})"', found)
            assert link is not None, found
            lines: list[dict[str, Any]] = []

            async def both_lines() -> bool:
                nonlocal lines
                answer = await stack.booking.client.get(
                    f"/v1/customers/{link.group(1).rsplit('/', 1)[1]}/timeline",
                    headers=bearer("front_desk", tenant),
                )
                lines = answer.json()["timeline"]
                return {LineKind.LEAD_CAPTURED, LineKind.BOOKING_CONFIRMED} <= {
                    line["kind"] for line in lines
                }

            await eventually(both_lines, timeout=20)
            booked = next(line for line in lines if line["kind"] == LineKind.BOOKING_CONFIRMED)
            assert booked["facts"]["service"] == "60-min massage"
            assert booked["summary"].startswith("Booked 60-min massage for ")
            greek = " ".join((await desk.get(link.group(1))).text.split())
            assert "Νέο αίτημα επικοινωνίας μέσω SMS" in greek
            assert "Κράτηση για 60-min massage στις" in greek
            assert "New lead via" not in greek
            assert "Booked 60-min" not in greek
            english = " ".join((await desk.get(link.group(1), params={"lang": "en"})).text.split())
            assert "New lead via SMS" in english
            assert "Booked 60-min massage for " in english
