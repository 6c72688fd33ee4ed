"""One customer per normalised phone, and a timeline that meets calls, bookings and
payments on it — for the front desk."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest

from slotline.events.contract.calls import CallMissed, CallReceived, MissReason
from slotline.events.contract.common import MessageChannel
from slotline.events.contract.notifications import NotificationSent, ReminderScheduled
from slotline.events.testing.reading import eventually
from slotline.events.testing.service import bearer

from .conftest import Stack, form, future_start

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


class TestCustomerTimeline:
    async def test_calls_and_bookings_of_one_number_meet_on_one_timeline(
        self, stack: Stack
    ) -> None:
        clinic = await stack.clinic()
        tenant = clinic.tenant_id
        call_id = f"call-{uuid4().hex[:8]}"
        common: dict[str, Any] = {"tenant_id": tenant, "aggregate_id": call_id}
        await stack.send(
            CallReceived(
                **common,
                call_id=call_id,
                from_phone="+306941234567",
                to_phone="+302101234567",
                provider_call_sid="CA1",
            )
        )
        await stack.send(
            CallMissed(
                **common,
                sequence=2,
                call_id=call_id,
                from_phone="+306941234567",
                to_phone="+302101234567",
                reason=MissReason.NO_ANSWER,
            )
        )
        booked = await stack.booking.client.post(  # the desk calls back and books
            "/v1/bookings",
            json=form(clinic, future_start(), phone="+30 694 123 4567", source_call_id=call_id),
            headers=bearer("front_desk", tenant),
        )
        assert booked.status_code == 201
        staff = bearer("front_desk", tenant)
        found = await stack.booking.client.get(
            "/v1/customers", params={"phone": "6941234567 "}, headers=staff
        )
        assert found.status_code == 422, "a national number needs the default region"
        found = await stack.booking.client.get(
            "/v1/customers", params={"phone": "0030 694 1234567"}, headers=staff
        )
        assert found.status_code == 200, found.text
        customer = found.json()
        assert customer["customer_id"] == booked.json()["customer_id"]
        lines: list[dict[str, Any]] = []

        async def complete() -> bool:
            nonlocal lines
            response = await stack.booking.client.get(
                f"/v1/customers/{customer['customer_id']}/timeline", headers=staff
            )
            lines = response.json()["timeline"]
            return {"CallReceived", "CallMissed", "BookingConfirmed"} <= {
                line["kind"] for line in lines
            }

        await eventually(complete, timeout=20)
        assert any("Missed call" in line["summary"] for line in lines)
        other = await stack.booking.client.get(
            f"/v1/customers/{customer['customer_id']}", headers=bearer("staff", "other-tenant")
        )
        assert other.status_code == 404


class TestMessagesOnTheTimeline:
    async def test_the_confirmation_sent_and_the_reminders_planned_show_on_the_timeline(
        self, stack: Stack
    ) -> None:
        """The notifier's outcomes name the booking: its customer's timeline shows them
        (they carry no phone, and showed nowhere)."""
        clinic = await stack.clinic()
        tenant = clinic.tenant_id
        start = future_start(hour=10)
        booked = await stack.booking.client.post(
            f"/v1/public/{tenant}/bookings", json=form(clinic, start, phone="+306945550001")
        )
        assert booked.status_code == 201, booked.text
        booking_id = booked.json()["booking_id"]
        await stack.send(
            NotificationSent(
                tenant_id=tenant,
                aggregate_id=f"notification:{booking_id}:confirmed",
                notification_id=f"{booking_id}:confirmed",
                channel=MessageChannel.SMS,
                booking_id=booking_id,
                template="booking_confirmed",
            )
        )
        await stack.send(
            ReminderScheduled(
                tenant_id=tenant,
                aggregate_id=f"reminders:{booking_id}",
                booking_id=booking_id,
                kind="24h",
                due_at=start - timedelta(hours=24),
            )
        )
        staff = bearer("front_desk", tenant)
        customer_id = booked.json()["customer_id"]
        summaries: list[str] = []

        async def shown() -> bool:
            nonlocal summaries
            response = await stack.booking.client.get(
                f"/v1/customers/{customer_id}/timeline", headers=staff
            )
            summaries = [line["summary"] for line in response.json()["timeline"]]
            return len(summaries) >= 3

        await eventually(shown, timeout=20)
        assert "Booking confirmed sent by sms" in summaries
        assert any(s.startswith("24h reminder due") for s in summaries)


class TestWhoMayChangeACustomer:
    async def test_an_anonymous_booking_never_renames_a_customer_or_takes_their_mail(
        self, stack: Stack
    ) -> None:
        clinic = await stack.clinic()
        tenant = clinic.tenant_id
        public = f"/v1/public/{tenant}/bookings"
        phone = "+306945550077"
        first = await stack.booking.client.post(
            public,
            json=form(clinic, future_start(hour=9), name="Alice", phone=phone, email="a@x.gr"),
        )
        assert first.status_code == 201, first.text
        second = await stack.booking.client.post(
            public,
            json=form(
                clinic, future_start(hour=11), name="Mallory", phone=phone, email="m@evil.example"
            ),
        )
        assert second.status_code == 201, second.text
        desk = bearer("front_desk", tenant)

        async def record() -> dict[str, Any]:
            found = await stack.booking.client.get(
                "/v1/customers", params={"phone": phone}, headers=desk
            )
            return dict(found.json())

        assert (await record())["name"] == "Alice"
        assert (await record())["email"] == "a@x.gr"
        by_desk = await stack.booking.client.post(
            "/v1/bookings",
            json=form(clinic, future_start(hour=13), name="Alice Papadaki", phone=phone),
            headers=desk,
        )
        assert by_desk.status_code == 201, by_desk.text
        assert (await record())["name"] == "Alice Papadaki", "the front desk may correct it"

    @pytest.mark.parametrize(
        ("field", "extra"),
        [
            ("channel", {"channel": "phone"}),
            ("source_call_id", {"source_call_id": "call-1"}),
            ("consents", {"consents": {"transactional": True, "marketing": True}}),
        ],
    )
    async def test_the_public_form_may_not_claim_what_only_the_desk_knows(
        self, stack: Stack, field: str, extra: dict[str, Any]
    ) -> None:
        clinic = await stack.clinic()
        for path, headers in (
            (f"/v1/public/{clinic.tenant_id}/bookings", {}),
            ("/v1/bookings", bearer("channel", clinic.tenant_id)),
        ):
            answer = await stack.booking.client.post(
                path, json=form(clinic, future_start(hour=15), **extra), headers=headers
            )
            assert answer.status_code == 422, answer.text
            assert answer.json()["errors"][0]["field"].startswith(field)  # consents.marketing


class TestNationalNumbers:
    async def test_a_number_without_country_code_is_read_in_the_locations_country(
        self, stack: Stack
    ) -> None:
        """The clinic is in Europe/Athens: 694 … is a Greek mobile, no setting needed."""
        clinic = await stack.clinic()
        tenant = clinic.tenant_id
        booked = await stack.booking.client.post(
            f"/v1/public/{tenant}/bookings",
            json=form(clinic, future_start(hour=9), phone="694 765 4321"),
        )
        assert booked.status_code in {201, 202}, booked.text
        found = await stack.booking.client.get(
            "/v1/customers",
            params={"phone": "+306947654321"},
            headers=bearer("front_desk", tenant),
        )
        assert found.status_code == 200, found.text
        assert found.json()["phone"] == "+306947654321"
