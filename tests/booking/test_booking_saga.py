"""The booking saga against the real stack: availability and booking over Kafka, real
PostgreSQL, real HTTP."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from slotline.availability.demo import Clinic
from slotline.availability.domain.hold import HoldStatus
from slotline.booking.domain.booking import Booking, BookingStatus
from slotline.booking.live.watch import BookingWatch
from slotline.events.contract.availability_commands import ConfirmHold, PlaceHold
from slotline.events.contract.booking import (
    BookingConfirmed,
    BookingRequestRefused,
    BookingRequestRepeated,
)
from slotline.events.contract.booking_requests import (
    BookingCancellationRequested,
    BookingRequested,
    BookingRescheduleRequested,
)
from slotline.events.contract.common import Channel, Contact
from slotline.events.envelope import Message
from slotline.events.testing.service import bearer
from slotline.events.topics import BOOKING_EVENTS, BOOKING_REQUESTS

from .conftest import Stack, form, future_start

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

DOCS = Path(__file__).resolve().parents[2] / "docs"


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

    async def test_the_watch_hands_each_waiter_the_booking_as_it_changes(
        self, stack: Stack
    ) -> None:
        """A waiting request reads nothing itself: each change comes with the booking as
        the watch loaded it (one query for all waiters of a wake-up)."""
        watch = next(t for t in stack.booking.runtime.background if isinstance(t, BookingWatch))
        clinic = await stack.clinic()
        request_id = f"watched-{uuid4().hex[:8]}"
        seen: list[BookingStatus] = []
        with watch.watching(Booking.create_id(clinic.tenant_id, request_id)) as watched:
            await stack.send(requested(clinic, future_start(hour=13), request_id))
            while not seen or seen[-1] is not BookingStatus.CONFIRMED:
                await asyncio.wait_for(watched.changed.wait(), 30)
                booking = watched.news()
                assert booking is not None, "woken without the booking"
                assert booking.request_id == request_id
                seen.append(booking.status)
                assert not watched.changed.is_set()  # news() takes it: the next is newer
        assert seen[0] is not BookingStatus.CONFIRMED, seen  # it saw the saga under way

    async def test_with_no_one_waiting_the_watch_reads_only_where_the_log_ends(
        self, stack: Stack
    ) -> None:
        """No waiter: no event is read, the watch moves to the log's end. A waiter that
        registers while it looks makes it read whose streams grew after all."""
        app = stack.booking.runtime.application
        assert app is not None
        clinic = await stack.clinic()
        before = app.process_recorder.max_notification_id() or 0
        request_id = f"unwatched-{uuid4().hex[:8]}"
        await stack.send(requested(clinic, future_start(hour=14), request_id))
        await stack.topics.wait_for(stack.of(clinic.tenant_id, BookingConfirmed))
        booking_id = Booking.create_id(clinic.tenant_id, request_id)
        watch = BookingWatch(app, database_url="unused: not run")  # its steps, not its loop
        watch.position = before
        end, grown, loaded = await asyncio.to_thread(watch._next_batch, frozenset())
        assert (grown, loaded) == ([], {})
        assert before < end <= (app.process_recorder.max_notification_id() or 0)
        with watch.watching(booking_id):  # registered after the loop saw no one
            end, grown, loaded = await asyncio.to_thread(watch._next_batch, frozenset())
            assert booking_id in {grown_id for _, grown_id in grown}
            assert loaded == {}  # the loop wakes it without a booking: it reads its own
            assert end == grown[-1][0]
            end, grown, loaded = await asyncio.to_thread(watch._next_batch, frozenset({booking_id}))
            assert loaded[booking_id].request_id == request_id


def requested(clinic: Clinic, start: datetime, request_id: str, **extra: Any) -> BookingRequested:
    return BookingRequested(
        tenant_id=clinic.tenant_id,
        aggregate_id=request_id,
        request_id=request_id,
        channel=Channel.PARTNER,
        contact=Contact(name="Nikos K.", phone="+306941234568"),
        service_id=str(clinic.service_id),
        location_id=str(clinic.location_id),
        slot_start=start,
        **extra,
    )


class TestBookingOverKafka:
    async def test_a_partner_request_ends_confirmed_and_the_outcome_is_correlated(
        self, stack: Stack
    ) -> None:
        clinic = await stack.clinic()
        request_id = f"partner-{uuid4().hex[:8]}"
        await stack.send(requested(clinic, future_start(hour=11), request_id))
        tenant = clinic.tenant_id
        confirmed = await stack.topics.wait_for(stack.of(tenant, BookingConfirmed))
        assert confirmed[0]["request_id"] == request_id
        assert confirmed[0]["service_name"] == "60-min massage"
        assert confirmed[0]["time_zone"] == "Europe/Athens"
        assert confirmed[0]["manage_url"].startswith(stack.booking.base_url)
        hold = stack.holds.tenant_hold(tenant, confirmed[0]["booking_id"])
        assert hold.status is HoldStatus.CONFIRMED
        # nothing was due first: availability confirmed the hold as it placed it
        [place] = stack.topics.matching(stack.of(tenant, PlaceHold))
        assert place["confirm"] is True
        assert stack.topics.matching(stack.of(tenant, ConfirmHold)) == []

    async def test_the_same_request_sent_twice_makes_one_booking(self, stack: Stack) -> None:
        clinic = await stack.clinic()
        message = requested(clinic, future_start(hour=12), f"twice-{uuid4().hex[:8]}")
        await stack.send(message)
        await stack.send(message.model_copy(update={"event_id": uuid4()}))
        tenant = clinic.tenant_id
        await stack.topics.wait_for(stack.of(tenant, BookingConfirmed))
        await stack.topics.settle()
        assert len(stack.topics.matching(stack.of(tenant, BookingConfirmed))) == 1
        assert len(stack.topics.matching(stack.of(tenant, PlaceHold))) == 1
        [repeat] = stack.topics.matching(stack.of(tenant, BookingRequestRepeated))
        confirmed = stack.topics.matching(stack.of(tenant, BookingConfirmed))[0]
        assert repeat["request_id"] == message.request_id, "the repeat is answered too"
        assert repeat["booking_id"] == confirmed["booking_id"]
        assert repeat["status"] in {"requested", "held", "confirmed"}

    async def test_a_request_id_reused_for_another_request_is_answered_with_a_refusal(
        self, stack: Stack
    ) -> None:
        clinic = await stack.clinic()
        request_id = f"reused-{uuid4().hex[:8]}"
        await stack.send(requested(clinic, future_start(hour=15), request_id))
        tenant = clinic.tenant_id
        await stack.topics.wait_for(stack.of(tenant, BookingConfirmed))
        other = requested(clinic, future_start(hour=16), request_id)
        await stack.send(other)
        [refused] = await stack.topics.wait_for(stack.of(tenant, BookingRequestRefused))
        assert refused["request_id"] == request_id
        assert refused["reason"] == "idempotency_key_reused"
        assert refused["request_type"] == other.event_type
        await stack.topics.settle()
        assert not stack.topics.matching(
            lambda m: m["_topic"].endswith(".dlq") and str(other.event_id) in json.dumps(m)
        ), "answered, not dead-lettered"

    async def test_a_malformed_request_is_dead_lettered_and_the_consumer_goes_on(
        self, stack: Stack
    ) -> None:
        clinic = await stack.clinic()
        broker = stack.booking.runtime.broker
        assert broker is not None
        bad = requested(clinic, future_start(hour=13), "bad-1").model_dump(mode="json")
        bad["contact"] = {"name": "No way to reach me"}
        await broker.publish(json.dumps(bad).encode(), topic=BOOKING_REQUESTS, key=b"bad-1")
        await broker.publish(b"{not json", topic=BOOKING_REQUESTS, key=b"bad-2")
        dead = await stack.topics.wait_for(
            lambda m: m["_topic"].endswith(".dlq") and "bad-" in json.dumps(m), count=1
        )
        assert any("phone" in json.dumps(d) or "contact" in json.dumps(d) for d in dead)
        await stack.send(requested(clinic, future_start(hour=13), f"ok-{uuid4().hex[:6]}"))
        await stack.topics.wait_for(stack.of(clinic.tenant_id, BookingConfirmed))

    async def test_a_card_number_sent_by_mistake_never_reaches_the_dead_letters(
        self, stack: Stack
    ) -> None:
        clinic = await stack.clinic()
        broker = stack.booking.runtime.broker
        assert broker is not None
        bad = requested(clinic, future_start(hour=14), "card-1").model_dump(mode="json")
        bad["payment_token"] = "4000 0566 5566 5556"
        await broker.publish(json.dumps(bad).encode(), topic=BOOKING_REQUESTS, key=b"card-1")
        dead = await stack.topics.wait_for(
            lambda m: m["_topic"].endswith(".dlq") and m.get("original_key") == "card-1"
        )
        assert "payment_token" in dead[0]["reason"]
        assert "5566" not in json.dumps(dead[0])


class TestRepeatsAndRaces:
    async def test_a_repeated_idempotency_key_returns_the_first_booking(self, stack: Stack) -> None:
        clinic = await stack.clinic()
        url = f"/v1/public/{clinic.tenant_id}/bookings"
        body = form(clinic, future_start(hour=14))
        key = {"Idempotency-Key": uuid4().hex}
        first = await stack.booking.client.post(url, json=body, headers=key)
        again = await stack.booking.client.post(url, json=body, headers=key)
        assert first.status_code == again.status_code == 201
        assert first.json()["booking_id"] == again.json()["booking_id"]
        other = await stack.booking.client.post(
            url, json={**body, "start": future_start(hour=15).isoformat()}, headers=key
        )
        assert other.status_code == 409
        assert "Idempotency-Key" in other.json()["detail"]

    async def test_a_slot_taken_since_listing_is_refused_with_alternatives(
        self, stack: Stack
    ) -> None:
        clinic = await stack.clinic(staff=1, rooms=1)
        url = f"/v1/public/{clinic.tenant_id}/bookings"
        start = future_start(hour=16)
        first = await stack.booking.client.post(url, json=form(clinic, start))
        assert first.status_code == 201, first.text
        late = await stack.booking.client.post(
            url, json=form(clinic, start, name="Eleni", phone="+306949999999")
        )
        assert late.status_code == 409, late.text
        card = late.json()
        assert card["status"] == "rejected"
        assert card["reason"] == "slot_taken"
        assert card["alternatives"], "the nearest free slots are offered"
        assert all(a["start"] != start.isoformat() for a in card["alternatives"])


class TestBadInput:
    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"service_id": None}, "service_id"),
            ({"phone": "12"}, "phone"),
            ({"email": "not-an-address", "phone": None}, "email"),
            ({"start": "2026-12-01T10:00:00"}, "start"),
            ({"notes": "card 4242 4242 4242 4242 please"}, "notes"),
            ({"payment_token": "4242424242424242"}, "payment_token"),
            ({"surprise": 1}, "surprise"),
        ],
    )
    async def test_a_malformed_body_gets_a_422_naming_the_field(
        self, stack: Stack, change: dict[str, Any], field: str
    ) -> None:
        clinic = await stack.clinic()
        merged = {**form(clinic, future_start()), **change}
        body = {k: v for k, v in merged.items() if v is not None}
        response = await stack.booking.client.post(
            f"/v1/public/{clinic.tenant_id}/bookings", json=body
        )
        assert response.status_code == 422, response.text
        assert field in [e["field"] for e in response.json()["errors"]]
        assert "4242" not in response.text

    async def test_neither_phone_nor_email_is_refused(self, stack: Stack) -> None:
        clinic = await stack.clinic()
        body = form(clinic, future_start())
        del body["phone"]
        response = await stack.booking.client.post(
            f"/v1/public/{clinic.tenant_id}/bookings", json=body
        )
        assert response.status_code == 422
        assert "phone or email" in response.json()["detail"]


class TestWhatTheSchemaAccepts:
    """Issue 15.2 and 15.4 on the real consumer: a request valid to the committed schema
    is answered on booking.events.v1 with its request id — never dead-lettered as invalid,
    never left unanswered — whatever the generator puts in it."""

    async def test_every_schema_valid_request_gets_an_outcome(self, stack: Stack) -> None:
        broker = stack.booking.runtime.broker
        assert broker is not None
        tenant = f"fuzz-{uuid4().hex[:8]}"
        sent: list[str] = []
        for kind in (BookingRequested, BookingCancellationRequested, BookingRescheduleRequested):
            for instance in schema_instances(kind, count=6):
                request_id = f"{kind.__name__}-{uuid4().hex[:10]}"
                instance.update(tenant_id=tenant, request_id=request_id, event_id=str(uuid4()))
                instance["aggregate_id"] = instance.get("booking_id", request_id)
                await broker.publish(
                    json.dumps(instance).encode(),
                    topic=BOOKING_REQUESTS,
                    key=instance["aggregate_id"].encode(),
                )
                sent.append(request_id)

        def answered(record: dict[str, Any]) -> bool:
            return record.get("tenant_id") == tenant and record["_topic"] == BOOKING_EVENTS

        await stack.topics.wait_for(answered, count=len(sent), timeout=60)
        await stack.topics.settle()
        answers = [m.get("request_id") for m in stack.topics.matching(answered)]
        assert sorted(a for a in answers if a in sent) == sorted(sent), "one answer each"
        assert not stack.topics.matching(
            lambda m: m["_topic"].endswith(".dlq") and tenant in json.dumps(m)
        ), "none dead-lettered"


def schema_instances(kind: type[Message], count: int) -> list[dict[str, Any]]:
    """``count`` instances of ``kind``'s committed JSON Schema (derandomized)."""
    published = DOCS / "schemas" / kind.TOPIC / f"{kind.EVENT_TYPE}.v{kind.SCHEMA_VERSION}.json"
    schema = json.loads(published.read_text())
    schema.pop("$id")
    found: list[dict[str, Any]] = []

    @settings(max_examples=count, derandomize=True, database=None, deadline=None)
    @given(from_schema(schema, custom_formats={"uuid": st.uuids().map(str)}))
    def collect(instance: dict[str, Any]) -> None:
        found.append(instance)

    collect()
    return found[:count]
