"""What the booking page and the console read from booking: the public catalogue with
prices, what cancelling or moving costs now, the day sheet's live feed, the customer
search, and the front desk's arrived check-in."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from slotline.events.testing.reading import eventually
from slotline.events.testing.service import bearer

from .conftest import Stack, form, future_start

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


async def booked(stack: Stack, **extra: str) -> tuple[str, dict[str, object]]:
    clinic = await stack.clinic()
    response = await stack.booking.client.post(
        f"/v1/public/{clinic.tenant_id}/bookings",
        json=form(clinic, future_start(days=3), **extra),
    )
    assert response.status_code == 201, response.text
    return clinic.tenant_id, response.json()


class TestReads:
    async def test_the_public_catalogue_lists_locations_services_and_their_quote(
        self, stack: Stack
    ) -> None:
        clinic = await stack.clinic()
        response = await stack.booking.client.get(f"/v1/public/{clinic.tenant_id}/catalog")
        assert response.status_code == 200
        [location] = response.json()
        assert location["location_id"] == str(clinic.location_id)
        [service] = location["services"]
        assert service["service_id"] == str(clinic.service_id)
        assert service["quote"]["free_cancellation_hours"] == 24

    async def test_the_terms_say_what_cancelling_would_cost_now_before_it_happens(
        self, stack: Stack
    ) -> None:
        _, card = await booked(stack)
        terms = await stack.booking.client.get(f"{card['manage_url']}/terms")
        assert terms.status_code == 200
        body = terms.json()
        assert body["can_cancel"] is True
        assert body["within_free_window"] is True
        assert body["cancellation_fee"] is None
        assert body["free_changes_left"] == 3

    async def test_the_customer_search_finds_a_customer_by_part_of_the_name_or_number(
        self, stack: Stack
    ) -> None:
        tenant, card = await booked(stack, name="Katerina Searchable")
        staff = bearer("front_desk", tenant)

        async def found(text: str) -> bool:
            response = await stack.booking.client.get(
                "/v1/customers/search", params={"q": text}, headers=staff
            )
            return [c["customer_id"] for c in response.json()] == [card["customer_id"]]

        await eventually(lambda: found("searchable"), timeout=20)
        assert await found("694 123")
        other = await stack.booking.client.get(
            "/v1/customers/search", params={"q": "searchable"}, headers=bearer("staff", "other")
        )
        assert other.json() == []

    async def test_arrived_is_noted_once_on_a_confirmed_booking(self, stack: Stack) -> None:
        tenant, card = await booked(stack)
        staff = bearer("front_desk", tenant)
        first = await stack.booking.client.post(
            f"/v1/bookings/{card['booking_id']}/arrived", headers=staff
        )
        assert first.status_code == 200, first.text
        again = await stack.booking.client.post(
            f"/v1/bookings/{card['booking_id']}/arrived", headers=staff
        )
        assert again.json()["arrived_at"] == first.json()["arrived_at"] is not None

    async def test_the_board_stream_tells_the_desks_of_the_tenant_about_a_new_booking(
        self, stack: Stack
    ) -> None:
        clinic = await stack.clinic()
        seen: list[dict[str, str]] = []

        async def listen() -> None:
            headers = bearer("staff", clinic.tenant_id)
            async with (
                httpx.AsyncClient(base_url=stack.booking.base_url, timeout=60) as client,
                client.stream("GET", "/v1/bookings/stream", headers=headers) as response,
            ):
                event = ""
                async for line in response.aiter_lines():
                    if line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:") and event == "booking":
                        seen.append(json.loads(line[5:]))
                    elif line.startswith("data:") and event == "ready":
                        ready.set()

        ready = asyncio.Event()
        listening = asyncio.create_task(listen())
        try:
            await asyncio.wait_for(ready.wait(), 10)
            response = await stack.booking.client.post(
                f"/v1/public/{clinic.tenant_id}/bookings",
                json=form(clinic, future_start(days=4)),
            )
            await eventually(
                lambda: any(s["booking_id"] == response.json()["booking_id"] for s in seen),
                timeout=20,
            )
        finally:
            listening.cancel()


class TestAChannelCredential:
    async def test_submits_requests_and_reaches_nothing_the_front_desk_sees(
        self, stack: Stack
    ) -> None:
        """A channel (the booking page, a partner) books; it may not read day sheets,
        customers or timelines, nor change bookings."""
        clinic = await stack.clinic()
        tenant = clinic.tenant_id
        channel = bearer("channel", tenant)
        made = await stack.booking.client.post(
            "/v1/bookings", json=form(clinic, future_start(days=4)), headers=channel
        )
        assert made.status_code == 201, made.text
        booking_id = made.json()["booking_id"]
        client = stack.booking.client
        refused = {
            "day sheet": await client.get("/v1/bookings", headers=channel),
            "card": await client.get(f"/v1/bookings/{booking_id}", headers=channel),
            "customers": await client.get(
                "/v1/customers", params={"phone": "+306941234567"}, headers=channel
            ),
            "search": await client.get(
                "/v1/customers/search", params={"q": "Maria"}, headers=channel
            ),
            "cancel": await client.post(
                f"/v1/bookings/{booking_id}/cancel", json={}, headers=channel
            ),
        }
        assert {name: answer.status_code for name, answer in refused.items()} == dict.fromkeys(
            refused, 403
        )
        card = await client.get(f"/v1/bookings/{booking_id}", headers=bearer("staff", tenant))
        assert card.json()["status"] == "confirmed", "the cancel did not go through"
