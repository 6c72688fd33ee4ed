"""The waitlist on the real stack (availability and booking, PostgreSQL, the broker): a
cancelled slot is offered to the first customer waiting for it, passes to the next when
the offer window (4 s here) runs out unclaimed, and ends booked once."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import anyio
import pytest

from slotline.availability.demo import Clinic
from slotline.availability.domain.values import ResourceKind, ResourceSchedule, WeeklyHours
from slotline.events.contract.notifications import NotificationRequested
from slotline.events.contract.waitlist import (
    SlotFreedBy,
    WaitlistClaimed,
    WaitlistJoined,
    WaitlistOffered,
    WaitlistPassed,
)
from slotline.events.envelope import Message
from slotline.events.testing.reading import eventually
from slotline.events.testing.service import bearer

from .conftest import Stack, form, future_start

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

M = TypeVar("M", bound=Message)


def waiting_for(clinic: Clinic, start: datetime, name: str, phone: str) -> dict[str, Any]:
    local = start.astimezone(ZoneInfo("Europe/Athens"))
    return {
        "name": name,
        "phone": phone,
        "service_id": str(clinic.service_id),
        "location_id": str(clinic.location_id),
        "day": local.date().isoformat(),
        "earliest": local.strftime("%H:%M"),
        "latest": local.strftime("%H:%M"),
    }


def published(stack: Stack, tenant: str, kind: type[M]) -> list[M]:
    """The tenant's messages of one contract class, parsed as a consumer would."""
    return [m for m in stack.topics.published(kind) if m.tenant_id == tenant]


async def one(stack: Stack, tenant: str, kind: type[M], **fields: str) -> M:
    async def arrived() -> bool:
        return any(
            all(getattr(m, k) == v for k, v in fields.items())
            for m in published(stack, tenant, kind)
        )

    await eventually(arrived, timeout=30)
    return next(
        m
        for m in published(stack, tenant, kind)
        if all(getattr(m, k) == v for k, v in fields.items())
    )


class TestAFreedSlotRefillsFromTheWaitlist:
    async def test_offered_to_the_first_passed_on_after_the_window_and_booked_once(
        self, stack: Stack
    ) -> None:
        clinic = await stack.clinic(staff=1, rooms=1)  # one slot at a time
        tenant = clinic.tenant_id
        start = future_start(hour=11)
        client = stack.booking.client
        booked = await client.post(f"/v1/public/{tenant}/bookings", json=form(clinic, start))
        assert booked.status_code == 201, booked.text

        first = await client.post(
            f"/v1/public/{tenant}/waitlist",
            json=waiting_for(clinic, start, "Eleni First", "+306941111111"),
        )
        second = await client.post(
            f"/v1/public/{tenant}/waitlist",
            json=waiting_for(clinic, start, "Nikos Second", "+306942222222"),
        )
        assert first.status_code == 201, first.text
        assert second.status_code == 201, second.text
        assert (first.json()["position"], second.json()["position"]) == (1, 2)
        first_entry, second_entry = first.json()["entry_id"], second.json()["entry_id"]
        joined = await one(stack, tenant, WaitlistJoined, entry_id=second_entry)
        assert joined.position == 2  # ids only on the public topic: no name, no phone

        # Given a waiting line, when the booking is cancelled
        cancelled = await client.post(booked.json()["manage_url"] + "/cancel", json={})
        assert cancelled.status_code == 200, cancelled.text

        # then the first in line is offered the slot, with a message carrying a claim link
        offer = await one(stack, tenant, WaitlistOffered, entry_id=first_entry)
        assert offer.slot.start == start
        # it says what freed the slot, and since when (the start of time-to-fill)
        assert offer.slot_freed_by == SlotFreedBy.CANCELLED
        assert offer.freed_booking_id == booked.json()["booking_id"]
        assert offer.slot_freed_at <= offer.occurred_at
        notice = await one(
            stack,
            tenant,
            NotificationRequested,
            notification_id=f"waitlist-offer:{offer.booking_id}",
        )
        assert notice.template == "waitlist_offer"
        assert notice.to_phone == "+306941111111"
        place = await client.get(first.json()["link"])
        assert place.json()["status"] == "offered"
        assert place.json()["offer"]["booking_id"] == offer.booking_id

        # and, unclaimed when the window runs out, it passes to the next
        passed = await one(stack, tenant, WaitlistPassed, entry_id=first_entry)
        assert (passed.booking_id, passed.reason) == (offer.booking_id, "expired")
        second_offer = await one(stack, tenant, WaitlistOffered, entry_id=second_entry)
        assert second_offer.slot.start == start
        assert second_offer.sequence > passed.sequence  # never two offers at once
        # still the slot the cancellation freed: time-to-fill counts from that freeing,
        # not from the first offer's hold given back
        assert (second_offer.slot_freed_at, second_offer.slot_freed_by) == (
            offer.slot_freed_at,
            SlotFreedBy.CANCELLED,
        )
        assert second_offer.freed_booking_id == offer.freed_booking_id
        late = await client.post(first.json()["link"] + "/leave")
        assert late.status_code == 404  # the first is out of the line

        # the second claims it through the link in the message, and it is booked once
        claim_url = (
            await one(
                stack,
                tenant,
                NotificationRequested,
                notification_id=f"waitlist-offer:{second_offer.booking_id}",
            )
        ).variables["claim_url"]
        claimed = await client.post(claim_url + "/claim")
        assert claimed.status_code == 200, claimed.text
        claim = await one(stack, tenant, WaitlistClaimed, entry_id=second_entry)
        assert (claim.slot_freed_at, claim.slot_freed_by, claim.freed_booking_id) == (
            offer.slot_freed_at,
            SlotFreedBy.CANCELLED,
            offer.freed_booking_id,
        )

        async def booked_once() -> bool:
            sheet = await client.get(
                "/v1/bookings", params={"status": "confirmed"}, headers=bearer("staff", tenant)
            )
            return [b["booking_id"] for b in sheet.json()] == [second_offer.booking_id]

        await eventually(booked_once, timeout=20)
        again = await client.post(claim_url + "/claim")
        assert again.status_code == 409
        first_claim = notice.variables["claim_url"] + "/claim"
        assert (await client.post(first_claim)).status_code == 409  # its offer ran out


class TestANewResourceRefillsTheLine:
    async def test_a_therapist_and_a_room_added_offer_the_full_hour_to_the_first_waiting(
        self, stack: Stack
    ) -> None:
        """No booking gives the slot back here: the live view of the day (SlotsChanged)
        shows it bookable again once the location can serve one more."""
        clinic = await stack.clinic(staff=1, rooms=1)
        tenant = clinic.tenant_id
        start = future_start(hour=15)
        client = stack.booking.client
        booked = await client.post(f"/v1/public/{tenant}/bookings", json=form(clinic, start))
        assert booked.status_code == 201, booked.text
        joined = await client.post(
            f"/v1/public/{tenant}/waitlist",
            json=waiting_for(clinic, start, "Eleni Waiting", "+306943333333"),
        )
        assert joined.status_code == 201, joined.text

        def add_a_pair() -> None:
            app, location = stack.holds, clinic.location_id
            hours = ResourceSchedule(WeeklyHours.every_day((time(9), time(21))))
            app.register_resource(
                tenant, location, ResourceKind.STAFF, "therapist new", ["massage"], hours
            )
            app.register_resource(
                tenant, location, ResourceKind.ROOM, "room new", ["treatment"], hours
            )

        await anyio.to_thread.run_sync(add_a_pair)
        offer = await one(stack, tenant, WaitlistOffered, entry_id=joined.json()["entry_id"])
        assert offer.slot.start == start


class TestAJoinThatCannotBeOffered:
    async def test_a_join_with_neither_phone_nor_email_is_refused_by_name(
        self, stack: Stack
    ) -> None:
        """An offer that cannot reach anyone would hold a freed slot for nobody."""
        clinic = await stack.clinic(staff=1, rooms=1)
        asked = waiting_for(clinic, future_start(hour=12), "Nobody Reachable", "")
        del asked["phone"]
        refused = await stack.booking.client.post(
            f"/v1/public/{clinic.tenant_id}/waitlist", json=asked
        )
        assert refused.status_code == 422, refused.text
        assert "phone or email" in refused.text
