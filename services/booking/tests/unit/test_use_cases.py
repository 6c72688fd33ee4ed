"""Booking's use cases on the in-memory store: a request becomes a booking, availability's
answers move it on, a repeat finds the same booking — no PostgreSQL, no broker."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from slotline.booking.application import BookingApplication, IdempotencyKeyReused
from slotline.booking.application.waitlist import JoinRequest
from slotline.booking.catalog import MemoryCatalog
from slotline.booking.domain.booking import Booking
from slotline.booking.domain.status import BookingStatus
from slotline.booking.messaging import _availability
from slotline.booking.messaging.day_views import parse_record
from slotline.events.contract.availability_catalog import (
    LocationRegistered,
    Requirement,
    ServiceDefined,
)
from slotline.events.contract.booking_requests import BookingRequested
from slotline.events.contract.common import Channel, Contact, ResourceKind
from slotline.events.inbox import Rejected
from slotline.events.topics import AVAILABILITY_EVENTS

pytestmark = pytest.mark.unit

TENANT = "clinic-a"
LOCATION = str(uuid4())
NOW = datetime(2027, 3, 1, 8, tzinfo=UTC)
START = datetime(2027, 3, 2, 9, tzinfo=UTC)


@pytest.fixture
def app() -> BookingApplication:
    app = BookingApplication(clock=lambda: NOW)
    location_id, service_id = LOCATION, "massage-60"
    registered = LocationRegistered(
        tenant_id=TENANT,
        aggregate_id=location_id,
        location_id=location_id,
        name="Kifisia",
        time_zone="Europe/Athens",
    )
    defined = ServiceDefined(
        tenant_id=TENANT,
        aggregate_id=service_id,
        service_id=service_id,
        location_id=location_id,
        name="60-min massage",
        duration_minutes=60,
        requirements=[Requirement(kind=ResourceKind.STAFF)],
    )
    for message in (registered, defined):
        record(app, message)
    return app


def record(app: BookingApplication, message: LocationRegistered | ServiceDefined) -> None:
    """Availability's catalogue event, consumed as the inbox would: in a unit of work."""
    app.command(lambda work: app.catalog.record(message, work))


def request(request_id: str, **changes: object) -> BookingRequested:
    fields: dict[str, object] = {
        "tenant_id": TENANT,
        "aggregate_id": request_id,
        "request_id": request_id,
        "channel": Channel.PARTNER,
        "contact": Contact(name="Nikos K.", phone="+306941234568"),
        "service_id": "massage-60",
        "location_id": LOCATION,
        "slot_start": START,
    }
    return BookingRequested.model_validate({**fields, **changes})


def test_the_store_is_in_memory(app: BookingApplication) -> None:
    assert isinstance(app.catalog, MemoryCatalog)


def test_a_request_becomes_a_booking_that_availability_s_answers_confirm(
    app: BookingApplication,
) -> None:
    booking = app.request_booking(request("r-1"))
    assert booking.status is BookingStatus.REQUESTED
    assert booking.confirm_on_placing  # the service asks no deposit: one step at availability
    assert booking.terms.service_name == "60-min massage"
    assert booking.terms.time_zone == "Europe/Athens"

    end = START + timedelta(hours=1)
    app.on_booking(TENANT, str(booking.id), lambda b: b.hold_placed(START, end, ["s-1"], NOW))
    assert app.booking(TENANT, booking.id).status is BookingStatus.CONFIRMING
    app.on_booking(TENANT, str(booking.id), lambda b: b.hold_confirmed(START, end, ["s-1"]))

    confirmed = app.booking(TENANT, booking.id)
    assert confirmed.status is BookingStatus.CONFIRMED
    assert confirmed.resource_ids == ["s-1"]
    assert app.customer(TENANT, confirmed.customer_id).id == confirmed.customer_id


def test_a_repeated_request_finds_the_same_booking_and_a_changed_one_is_refused(
    app: BookingApplication,
) -> None:
    first = app.request_booking(request("r-2", idempotency_key="key-2"))
    repeats: list[Booking] = []
    again = app.request_booking(
        request("r-2", idempotency_key="key-2"), repeated=lambda b, _: repeats.append(b)
    )
    assert again.id == first.id
    assert [b.id for b in repeats] == [first.id]
    with pytest.raises(IdempotencyKeyReused):
        app.request_booking(request("r-3", idempotency_key="key-2", notes="another slot"))


def test_a_service_the_catalogue_does_not_know_is_refused_at_once(
    app: BookingApplication,
) -> None:
    booking = app.request_booking(request("r-4", service_id="no-such-service"))
    assert booking.status is BookingStatus.REJECTED
    assert booking.refusal is not None


def day_view(day: date, start: datetime, *, broken: bool = False) -> bytes:
    """Availability's view of the day with one bookable hour at ``start``, as written;
    ``broken``: the hour ends before it starts."""
    end = start + timedelta(hours=1)
    slot = {"start": end, "end": start} if broken else {"start": start, "end": end}
    data = {
        "event_id": str(uuid4()),
        "event_type": "SlotsChanged",
        "schema_version": 1,
        "tenant_id": TENANT,
        "aggregate_id": f"massage-60:{LOCATION}:{day}",
        "sequence": 1,
        "occurred_at": NOW.isoformat(),
        "service_id": "massage-60",
        "location_id": LOCATION,
        "day": day.isoformat(),
        "slots": [
            {
                "slot": {k: v.isoformat() for k, v in slot.items()},
                "status": "available",
                "free_resources": 1,
                "seats_left": None,
            }
        ],
    }
    return json.dumps(data, separators=(",", ":")).encode()


def test_a_day_s_slots_are_read_only_for_a_day_someone_waits_on(
    app: BookingApplication,
) -> None:
    """A view of a day with no line is acknowledged with its slots unread, even broken
    ones; on a day with a line they are read, and broken ones are refused."""
    handle = _availability(app)

    def consume(raw: bytes) -> None:
        message = parse_record(AVAILABILITY_EVENTS, raw)
        app.command(lambda work: handle(message, work))

    day = START.astimezone(ZoneInfo("Europe/Athens")).date()
    consume(day_view(day, START, broken=True))  # no line that day: not read
    joined = app.waitlist.join(
        JoinRequest(
            tenant_id=TENANT,
            service_id="massage-60",
            location_id=LOCATION,
            day=day,
            earliest=None,
            latest=None,
            staff_id=None,
            name="Eleni P.",
            phone="+306941234569",
            email=None,
            language="en",
            consents={},
        )
    )
    with pytest.raises(Rejected, match="slots"):
        consume(day_view(day, START, broken=True))
    assert app.waitlist.line(TENANT, joined.line_id).offers == {}
    consume(day_view(day, START))
    [offer] = app.waitlist.line(TENANT, joined.line_id).offers.values()
    assert offer["start"] == START.isoformat()
