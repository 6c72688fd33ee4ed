"""Issue 15 item 9 on the real stack: a customer books only a start the slot list
offers. Availability refuses an off-grid start when the hold says ``offered_only``
(its own tests); booking's saga does not say it yet for customer requests — its
application and messaging are being changed by others — so this is the acceptance test
that turns green when it does (strict: it must then leave the xfail)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from .conftest import Stack, form, future_start

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


@pytest.mark.xfail(
    strict=True,
    reason="booking's saga sends PlaceHold without offered_only for customer requests",
)
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
