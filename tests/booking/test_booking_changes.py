"""Deposits, cancellations and changes under a tier's policy, against the real stack.
Payments' answers are published here as the payments service publishes them."""

from __future__ import annotations

import json
from typing import Any
from uuid import uuid4

import httpx
import jwt
import pytest

from slotline.availability.demo import Clinic
from slotline.availability.domain.hold import HoldStatus
from slotline.events.contract.availability_commands import CancelAllocation
from slotline.events.contract.booking import (
    BookingCancelled,
    BookingRequestRefused,
    BookingRescheduled,
    DepositRequested,
)
from slotline.events.contract.booking_requests import (
    BookingCancellationRequested,
    BookingRescheduleRequested,
)
from slotline.events.contract.common import Channel, Money
from slotline.events.contract.payments import (
    FailureReason,
    PaymentAuthorizationFailed,
    PaymentAuthorized,
)
from slotline.events.testing.reading import eventually
from slotline.events.testing.service import bearer

from .conftest import Stack, form, future_start

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

DEPOSIT = {"payment": "deposit", "price_minor": 6000, "deposit_minor": 2000}


async def with_policy(stack: Stack, clinic: Clinic, **policy: Any) -> None:
    response = await stack.booking.client.put(
        "/v1/policies/standard", json=policy, headers=bearer("manager", clinic.tenant_id)
    )
    assert response.status_code == 200, response.text


async def book(stack: Stack, clinic: Clinic, hour: int, **extra: Any) -> dict[str, Any]:
    request = form(clinic, future_start(hour=hour), **extra)
    response = await stack.booking.client.post(
        f"/v1/public/{clinic.tenant_id}/bookings", json=request
    )
    assert response.status_code in (201, 202), response.text
    body: dict[str, Any] = response.json()
    return body


def manage_token(booked: dict[str, Any]) -> str:
    """The customer's manage-link token: the proof a change request on Kafka carries."""
    return str(booked["manage_url"]).rsplit("/", 1)[-1]


def channel_token(tenant: str) -> str:
    """A channel adapter's access token for ``tenant`` (the other proof a change takes)."""
    return bearer("channel", tenant)["Authorization"].removeprefix("Bearer ")


async def pay(stack: Stack, clinic: Clinic, booking_id: str, amount: int = 2000) -> None:
    await stack.send(
        PaymentAuthorized(
            tenant_id=clinic.tenant_id,
            aggregate_id=booking_id,
            booking_id=booking_id,
            payment_id=f"pay-{booking_id[:8]}",
            amount=Money(amount_minor=amount, currency="EUR"),
            gateway="simulated",
            gateway_reference="pi_test",
        )
    )


async def card_of(stack: Stack, body: dict[str, Any], status: str) -> dict[str, Any]:
    """The status card behind the manage link, once it shows ``status``."""
    found: dict[str, Any] = {}

    async def reached() -> bool:
        nonlocal found
        found = (await stack.booking.client.get(body["manage_url"])).json()
        return bool(found["status"] == status)

    await eventually(reached, timeout=20)
    return found


class TestDeposits:
    async def test_a_deposit_is_requested_and_the_booking_confirmed_once_authorised(
        self, stack: Stack
    ) -> None:
        clinic = await stack.clinic()
        await with_policy(stack, clinic, **DEPOSIT)
        held = await book(stack, clinic, 10, payment_token="tok_visa")
        assert held["status"] == "held"
        assert held["payment_status"] == "pending"
        asked = await stack.topics.wait_for(stack.of(clinic.tenant_id, DepositRequested))
        assert asked[0]["amount"] == {"amount_minor": 2000, "currency": "EUR"}
        assert asked[0]["payment_token"] == "tok_visa"
        await pay(stack, clinic, held["booking_id"])
        confirmed = await card_of(stack, held, "confirmed")
        assert confirmed["paid"]["amount_minor"] == 2000
        assert confirmed["payment_status"] == "authorized"

    async def test_the_outcome_streams_to_a_client_that_got_a_202(self, stack: Stack) -> None:
        clinic = await stack.clinic()
        await with_policy(stack, clinic, **DEPOSIT)
        held = await book(stack, clinic, 11, payment_token="tok_visa")
        statuses: list[str] = []
        async with (
            httpx.AsyncClient(timeout=30) as client,
            client.stream("GET", held["events_url"]) as stream,
        ):
            await pay(stack, clinic, held["booking_id"])
            async for line in stream.aiter_lines():
                if line.startswith("data:"):
                    statuses.append(json.loads(line[5:])["status"])
        assert statuses[0] == "held"
        assert statuses[-1] == "confirmed"

    async def test_a_declined_payment_rejects_the_booking_and_releases_the_hold(
        self, stack: Stack
    ) -> None:
        clinic = await stack.clinic()
        await with_policy(stack, clinic, **DEPOSIT)
        held = await book(stack, clinic, 12, payment_token="tok_declined")
        await stack.send(
            PaymentAuthorizationFailed(
                tenant_id=clinic.tenant_id,
                aggregate_id=held["booking_id"],
                booking_id=held["booking_id"],
                payment_id="pay-x",
                amount=Money(amount_minor=2000, currency="EUR"),
                reason=FailureReason.DECLINED,
                detail="card declined",
            )
        )
        rejected = await card_of(stack, held, "rejected")
        assert rejected["reason"] == "payment_failed"
        assert rejected["payment_status"] == "failed"

        async def released() -> bool:
            hold = stack.holds.tenant_hold(clinic.tenant_id, held["booking_id"])
            return hold.status is HoldStatus.RELEASED

        await eventually(released, timeout=20)

    async def test_a_deposit_without_a_payment_token_is_a_422(self, stack: Stack) -> None:
        clinic = await stack.clinic()
        await with_policy(stack, clinic, **DEPOSIT)
        response = await stack.booking.client.post(
            f"/v1/public/{clinic.tenant_id}/bookings", json=form(clinic, future_start())
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "payment_token"
        assert "20.00 EUR" in response.json()["detail"]


class TestCancellation:
    async def test_inside_the_free_window_everything_paid_is_refunded(self, stack: Stack) -> None:
        clinic = await stack.clinic()
        await with_policy(stack, clinic, **DEPOSIT, late_cancellation_fee_minor=1500)
        held = await book(stack, clinic, 13, payment_token="tok_visa")
        await pay(stack, clinic, held["booking_id"])
        await card_of(stack, held, "confirmed")
        cancelled = await stack.booking.client.post(
            held["manage_url"] + "/cancel", json={"reason": "sick"}
        )
        assert cancelled.status_code == 200, cancelled.text
        event = (await stack.topics.wait_for(stack.of(clinic.tenant_id, BookingCancelled)))[0]
        assert event["within_free_window"] is True
        assert event["refund"] == {"amount_minor": 2000, "currency": "EUR"}
        assert event["fee"] is None
        await stack.topics.wait_for(stack.of(clinic.tenant_id, CancelAllocation))

        async def freed() -> bool:
            hold = stack.holds.tenant_hold(clinic.tenant_id, held["booking_id"])
            return hold.status is HoldStatus.CANCELLED

        await eventually(freed, timeout=20)

    async def test_outside_the_window_the_fee_is_kept_and_the_rest_refunded(
        self, stack: Stack
    ) -> None:
        clinic = await stack.clinic()
        await with_policy(
            stack, clinic, **DEPOSIT, free_cancellation_hours=720, late_cancellation_fee_minor=1500
        )
        held = await book(stack, clinic, 14, payment_token="tok_visa")
        await pay(stack, clinic, held["booking_id"])
        await card_of(stack, held, "confirmed")
        response = await stack.booking.client.post(held["manage_url"] + "/cancel", json={})
        assert response.status_code == 200
        event = (await stack.topics.wait_for(stack.of(clinic.tenant_id, BookingCancelled)))[0]
        assert event["within_free_window"] is False
        assert event["fee"] == {"amount_minor": 1500, "currency": "EUR"}
        assert event["refund"] == {"amount_minor": 500, "currency": "EUR"}

    async def test_a_cancelled_booking_cannot_be_cancelled_again(self, stack: Stack) -> None:
        clinic = await stack.clinic()
        booked = await book(stack, clinic, 15)
        first = await stack.booking.client.post(booked["manage_url"] + "/cancel", json={})
        again = await stack.booking.client.post(booked["manage_url"] + "/cancel", json={})
        assert first.status_code == 200
        assert again.status_code == 409

    async def test_a_forged_manage_link_finds_nothing(self, stack: Stack) -> None:
        response = await stack.booking.client.get("/v1/manage/" + "x" * 40)
        assert response.status_code == 404
        assert response.json()["detail"] == "this manage link is not valid (any more)"

    async def test_a_link_without_an_expiry_opens_nothing(self, stack: Stack) -> None:
        clinic = await stack.clinic()
        booked = await book(stack, clinic, 12)
        claims = {"aud": "slotline-manage", "sub": booked["booking_id"], "tnt": clinic.tenant_id}
        secret = stack.booking_settings.manage_link_secret.get_secret_value()
        forever = jwt.encode(claims, secret, algorithm="HS256")
        response = await stack.booking.client.get(f"/v1/manage/{forever}")
        assert response.status_code == 404, "a signed link must still carry its expiry"

    async def test_revoked_links_stop_working_and_the_new_one_works(self, stack: Stack) -> None:
        clinic = await stack.clinic()
        booked = await book(stack, clinic, 13)
        old_link = booked["manage_url"]
        assert (await stack.booking.client.get(old_link)).status_code == 200
        revoked = await stack.booking.client.post(
            f"/v1/bookings/{booked['booking_id']}/manage-link/revoke",
            headers=bearer("front_desk", clinic.tenant_id),
        )
        assert revoked.status_code == 200, revoked.text
        new_link = revoked.json()["manage_url"]
        assert new_link != old_link
        for path in ("", "/terms", "/booking.ics"):
            assert (await stack.booking.client.get(old_link + path)).status_code == 404
        refused = await stack.booking.client.post(old_link + "/cancel", json={})
        assert refused.status_code == 404
        assert (await stack.booking.client.get(new_link)).json()["status"] == "confirmed"
        customer = await stack.booking.client.post(
            f"/v1/bookings/{booked['booking_id']}/manage-link/revoke",
            headers=bearer("channel", clinic.tenant_id),
        )
        assert customer.status_code == 403, "only the desk revokes links"


class TestChanges:
    async def test_changes_beyond_the_free_ones_carry_the_change_fee(self, stack: Stack) -> None:
        clinic = await stack.clinic()
        await with_policy(stack, clinic, free_changes=1, change_fee_minor=500)
        booked = await book(stack, clinic, 10)
        assert booked["status"] == "confirmed"
        first = await stack.booking.client.post(
            booked["manage_url"] + "/reschedule", json={"start": future_start(hour=16).isoformat()}
        )
        assert first.status_code == 200, first.text
        assert first.json()["free_changes_left"] == 0
        second = await stack.booking.client.post(
            booked["manage_url"] + "/reschedule", json={"start": future_start(hour=17).isoformat()}
        )
        assert second.status_code == 200, second.text
        moves = await stack.topics.wait_for(stack.of(clinic.tenant_id, BookingRescheduled), count=2)
        by_number = {m["change_number"]: m for m in moves}
        assert by_number[1]["change_fee"] is None
        assert by_number[2]["change_fee"] == {"amount_minor": 500, "currency": "EUR"}
        assert by_number[2]["previous_slot"]["start"] == by_number[1]["slot"]["start"]
        hold = stack.holds.tenant_hold(clinic.tenant_id, booked["booking_id"])
        assert hold.slot.start == future_start(hour=17)

    async def test_a_move_to_a_taken_slot_is_refused_and_the_booking_stays(
        self, stack: Stack
    ) -> None:
        clinic = await stack.clinic(staff=1, rooms=1)
        mine = await book(stack, clinic, 10)
        await book(stack, clinic, 12, name="Other", phone="+306940000001")
        refused = await stack.booking.client.post(
            mine["manage_url"] + "/reschedule", json={"start": future_start(hour=12).isoformat()}
        )
        assert refused.status_code == 409, refused.text
        assert refused.json()["reason"] == "slot_taken"
        assert refused.json()["alternatives"]
        card = (await stack.booking.client.get(mine["manage_url"])).json()
        assert card["status"] == "confirmed"
        assert card["start"] == mine["start"]
        assert card["changes_made"] == 0


class TestChangesOverKafka:
    async def test_a_channel_cancels_on_the_customers_behalf(self, stack: Stack) -> None:
        clinic = await stack.clinic()
        booked = await book(stack, clinic, 18)
        request_id = f"cancel-{uuid4().hex[:6]}"
        await stack.send(
            BookingCancellationRequested(
                tenant_id=clinic.tenant_id,
                aggregate_id=booked["booking_id"],
                request_id=request_id,
                booking_id=booked["booking_id"],
                channel=Channel.WHATSAPP,
                reason="cannot make it",
                authorization=manage_token(booked),
            )
        )
        cancelled = await stack.topics.wait_for(stack.of(clinic.tenant_id, BookingCancelled))
        assert cancelled[0]["by"] == "customer"
        assert cancelled[0]["reason"] == "cannot make it"
        assert cancelled[0]["request_id"] == request_id, "the outcome answers the cancel request"

    async def test_a_move_then_a_cancel_with_the_same_sequence_are_both_carried_out(
        self, stack: Stack
    ) -> None:
        """Issue 15.1: a channel cannot know a stream position, so both requests say
        ``sequence`` 1 — the cancel is its own request (its event id), not a repeat."""
        clinic = await stack.clinic()
        booked = await book(stack, clinic, 11)
        booking_id, tenant = booked["booking_id"], clinic.tenant_id
        move_id, cancel_id = f"move-{uuid4().hex[:6]}", f"cancel-{uuid4().hex[:6]}"
        await stack.send(
            BookingRescheduleRequested(
                tenant_id=tenant,
                aggregate_id=booking_id,
                sequence=1,
                request_id=move_id,
                booking_id=booking_id,
                channel=Channel.WHATSAPP,
                slot_start=future_start(hour=15),
                authorization=manage_token(booked),
            )
        )
        [moved] = await stack.topics.wait_for(
            lambda m: stack.of(tenant, BookingRescheduled)(m) and m["request_id"] == move_id
        )
        assert moved["booking_id"] == booking_id
        await stack.send(
            BookingCancellationRequested(
                tenant_id=tenant,
                aggregate_id=booking_id,
                sequence=1,
                request_id=cancel_id,
                booking_id=booking_id,
                channel=Channel.WHATSAPP,
                authorization=channel_token(tenant),
            )
        )
        [cancelled] = await stack.topics.wait_for(
            lambda m: stack.of(tenant, BookingCancelled)(m) and m["booking_id"] == booking_id
        )
        assert cancelled["request_id"] == cancel_id, "the cancel got its own outcome"

    async def test_a_change_without_proof_for_that_booking_is_refused(self, stack: Stack) -> None:
        """Issue 17.5: a record's tenant is only what its sender typed. A cancel with no
        proof, with another booking's manage token, or with a channel token of another
        tenant is answered not_authorized, and the booking stays as it was."""
        clinic = await stack.clinic()
        booked = await book(stack, clinic, 17)
        other = await book(stack, clinic, 18, name="Other", phone="+306940000002")
        tenant, booking_id = clinic.tenant_id, booked["booking_id"]
        revoked = await stack.booking.client.post(
            f"/v1/bookings/{booking_id}/manage-link/revoke", headers=bearer("front_desk", tenant)
        )
        assert revoked.status_code == 200, revoked.text
        proofs = {
            "revoked-link": manage_token(booked),
            "none": None,
            "other-booking": manage_token(other),
            "other-tenant": channel_token(f"elsewhere-{uuid4().hex[:6]}"),
            "staff-not-channel": bearer("owner", tenant)["Authorization"].split(" ")[1],
            "garbage": "not-a-token",
        }
        for name, proof in proofs.items():
            await stack.send(
                BookingCancellationRequested(
                    tenant_id=tenant,
                    aggregate_id=booking_id,
                    request_id=f"forged-{name}",
                    booking_id=booking_id,
                    channel=Channel.PARTNER,
                    authorization=proof,
                )
            )
        refused = await stack.topics.wait_for(
            lambda m: (
                stack.of(tenant, BookingRequestRefused)(m) and m["request_id"].startswith("forged-")
            ),
            count=len(proofs),
        )
        assert {r["request_id"] for r in refused} == {f"forged-{n}" for n in proofs}
        assert {r["reason"] for r in refused} == {"not_authorized"}
        assert all("not-a-token" not in r["detail"] for r in refused), "no echo of the value"
        card = (await stack.booking.client.get(revoked.json()["manage_url"])).json()
        assert card["status"] == "confirmed", card
        assert not stack.topics.matching(stack.of(tenant, BookingCancelled))

    async def test_cancelling_an_unknown_booking_is_answered_with_a_typed_refusal(
        self, stack: Stack
    ) -> None:
        clinic = await stack.clinic()
        await stack.send(
            BookingCancellationRequested(
                tenant_id=clinic.tenant_id,
                aggregate_id="nope",
                request_id="cancel-nope",
                booking_id="not-a-booking",
                channel=Channel.KIOSK,
                authorization=channel_token(clinic.tenant_id),
            )
        )
        [refused] = await stack.topics.wait_for(stack.of(clinic.tenant_id, BookingRequestRefused))
        assert refused["request_id"] == "cancel-nope"
        assert refused["booking_id"] == "not-a-booking"
        assert refused["reason"] == "unknown_booking"
        assert "not-a-booking" in refused["detail"]

    async def test_cancelling_a_cancelled_booking_again_is_refused_as_not_allowed(
        self, stack: Stack
    ) -> None:
        clinic = await stack.clinic()
        booked = await book(stack, clinic, 19)
        for n in (1, 2):
            await stack.send(
                BookingCancellationRequested(
                    tenant_id=clinic.tenant_id,
                    aggregate_id=booked["booking_id"],
                    request_id=f"cancel-{n}-{uuid4().hex[:6]}",
                    booking_id=booked["booking_id"],
                    channel=Channel.WHATSAPP,
                    authorization=manage_token(booked),
                )
            )
        tenant = clinic.tenant_id
        [refused] = await stack.topics.wait_for(stack.of(tenant, BookingRequestRefused))
        assert refused["request_id"].startswith("cancel-2-")
        assert refused["reason"] == "not_allowed"
        assert len(stack.topics.matching(stack.of(tenant, BookingCancelled))) == 1
