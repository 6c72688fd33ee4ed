"""The booking service caps what it reads: a huge body is a 413, not a memory spike."""

from __future__ import annotations

import asyncio
import time

import pytest

from slotline.booking.settings import BookingSettings
from slotline.events.rate_limits import PostgresStorage, RateLimit

from .conftest import Stack, form, future_start

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


async def test_a_booking_request_of_a_megabyte_is_refused_before_it_is_read(
    stack: Stack,
) -> None:
    clinic = await stack.clinic()
    body = form(clinic, future_start(hour=10), notes="n" * (1024 * 1024))
    answer = await stack.booking.client.post(f"/v1/public/{clinic.tenant_id}/bookings", json=body)
    assert answer.status_code == 413
    assert "at most 64 KB" in answer.json()["detail"]


async def inside_one_minute_window(margin: float = 5.0) -> None:
    """The limiter counts in minute windows (a sliding estimate weighs the last one): a
    flood counted in the last seconds of one would weigh less than the limit a moment
    later, in the next (201 instead of 429 in one CI run). So start clear of the edge."""
    left = 60 - time.time() % 60
    if left < margin:
        await asyncio.sleep(left + 0.1)


class TestRateLimits:
    """Counted in booking's PostgreSQL, so what one replica counted binds every other:
    here, requests counted elsewhere (``flood``) before this replica sees one."""

    @staticmethod
    def counted_elsewhere(stack: Stack, limit: str, name: str) -> RateLimit:
        app = stack.bookings
        storage = PostgresStorage(lambda: app.sql_recorder.transaction(commit=True), app.schema)
        return RateLimit(storage, limit, name)

    async def test_the_public_form_refuses_an_address_over_its_limit_on_any_replica(
        self, stack: Stack
    ) -> None:
        clinic = await stack.clinic()
        await inside_one_minute_window()
        flood = self.counted_elsewhere(stack, "1000/minute", "public-bookings")
        assert flood.hit("127.0.0.1", clinic.tenant_id, cost=1000) is None
        body = form(clinic, future_start(hour=10))
        answer = await stack.booking.client.post(
            f"/v1/public/{clinic.tenant_id}/bookings", json=body
        )
        assert answer.status_code == 429
        assert int(answer.headers["Retry-After"]) >= 1
        assert answer.headers["X-RateLimit-Limit"] == "1000 per 1 minute"

    async def test_manage_links_are_rate_limited_per_address(self, stack: Stack) -> None:
        settings = stack.booking.runtime.spec.settings
        assert isinstance(settings, BookingSettings)
        flood = self.counted_elsewhere(stack, settings.manage_rate_limit, "manage-links")
        flood.clear("127.0.0.1", "")  # earlier tests on this stack opened manage links too
        assert flood.hit("127.0.0.1", "", cost=flood.item.amount) is None
        try:
            answer = await stack.booking.client.get("/v1/manage/" + "x" * 40)
        finally:
            flood.clear("127.0.0.1", "")
        assert answer.status_code == 429
        assert "retry in" in answer.json()["detail"]
        assert (await stack.booking.client.get("/v1/manage/" + "x" * 40)).status_code == 404
