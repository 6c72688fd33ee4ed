"""The booking saga against the real stack: availability and booking over Kafka, real
PostgreSQL, real HTTP."""

from __future__ import annotations

import pytest

from slotline.booking.domain.booking import BookingStatus
from slotline.availability.domain.hold import HoldStatus
from slotline.events.testing.service import bearer

from .conftest import Stack, form, future_start

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


class TestBookingOverHttp:
    async def test_a_booking_without_payment_ends_confirmed_with_the_allocation(
        self, stack: Stack
    ) -> None:
        clinic = await stack.clinic()
        response = await stack.booking.client.post(
            f"/v1/public/{clinic.tenant_id}/bookings", json=form(clinic, future_start())
        )
        assert response.status_code == 201, response.text
        card = response.json()
        assert card["status"] == "confirmed"
        assert card["reference"].startswith("SLT-")
        assert card["payment_status"] == "not_required"
        hold = stack.holds.tenant_hold(clinic.tenant_id, card["booking_id"])
        assert hold.status is HoldStatus.CONFIRMED
        assert sorted(map(str, hold.resource_ids)) == sorted(card["resource_ids"])
        staff_view = await stack.booking.client.get(
            f"/v1/bookings/{card['booking_id']}", headers=bearer("staff", clinic.tenant_id)
        )
        assert staff_view.json()["saga_status"] == BookingStatus.CONFIRMED.value
