"""The booking service caps what it reads: a huge body is a 413, not a memory spike."""

from __future__ import annotations

import pytest

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
