"""Issue 15 item 9 on the real stack: a customer books only a start the slot list
offers (booking's saga asks availability for ``offered_only`` holds for customers; the
front desk may book any start the hours allow)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from slotline.events.testing.service import bearer

from .conftest import Stack, form, future_start

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


async def test_the_public_form_refuses_a_start_off_the_grid_naming_the_nearest(
    stack: Stack,
) -> None:
    clinic = await stack.clinic()
    ten = future_start(hour=10)
    answer = await stack.booking.client.post(
        f"/v1/public/{clinic.tenant_id}/bookings",
        json=form(clinic, ten + timedelta(minutes=7)),  # 10:07 on a 15-minute grid
    )
    assert answer.status_code == 409, answer.text
    nearest = [datetime.fromisoformat(a["start"]) for a in answer.json()["alternatives"]]
    assert nearest[:2] == [ten, ten + timedelta(minutes=15)]


async def test_the_front_desk_may_book_a_start_off_the_grid(stack: Stack) -> None:
    clinic = await stack.clinic()
    odd = future_start(hour=10) + timedelta(minutes=7)
    answer = await stack.booking.client.post(
        "/v1/bookings",
        json=form(clinic, odd, channel="staff"),
        headers=bearer("front_desk", clinic.tenant_id),
    )
    assert answer.status_code == 201, answer.text
    assert datetime.fromisoformat(answer.json()["start"]) == odd
