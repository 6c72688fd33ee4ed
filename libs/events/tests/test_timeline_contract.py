"""Booking's customer timeline names the kind of every line from one closed set: each
kind but the arrival is a public event class's name, and a kind outside the set is
refused where the answer is built, not discovered by the page that reads it."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from pydantic import ValidationError

from slotline.events.contract import MESSAGES, booking, calls, payments
from slotline.events.contract.booking_requests import BookingRequested
from slotline.events.contract.timeline import CustomerTimeline, LineKind

pytestmark = pytest.mark.unit


def test_a_public_event_class_gives_the_kind_of_its_lines() -> None:
    assert LineKind.of(calls.CallMissed) is LineKind.CALL_MISSED
    assert LineKind.of(payments.PaymentCaptured) is LineKind.PAYMENT_CAPTURED
    assert LineKind.of(booking.BookingNoShow) is LineKind.BOOKING_NO_SHOW


def test_an_older_schema_version_makes_the_kind_of_its_event() -> None:
    assert LineKind.of(calls.CallMissedV1) is LineKind.CALL_MISSED
    assert LineKind.of(booking.BookingConfirmedV1) is LineKind.BOOKING_CONFIRMED


def test_each_kind_is_the_name_of_the_event_class_that_makes_it() -> None:
    for message in MESSAGES.values():
        kind = LineKind.of(message)
        assert kind is None or kind.value == message.EVENT_TYPE, message


def test_an_event_no_line_stands_for_has_no_kind() -> None:
    assert LineKind.of(BookingRequested) is None


def test_every_kind_but_the_arrival_is_made_by_a_public_event_class() -> None:
    made = {LineKind.of(message) for message in MESSAGES.values()} - {None}
    assert set(LineKind) - made == {LineKind.BOOKING_ARRIVED}


def test_the_arrival_is_the_one_kind_without_a_public_event() -> None:
    names = {message.EVENT_TYPE for message in MESSAGES.values()}
    assert {kind for kind in LineKind if kind not in names} == {LineKind.BOOKING_ARRIVED}


def _answer(kind: str) -> dict[str, object]:
    line = {"occurred_at": datetime.now(UTC), "kind": kind, "summary": "s", "facts": {}}
    return {
        "customer_id": uuid4(),
        "name": "Eleni",
        "phone": "+306912345678",
        "email": None,
        "caller": False,
        "timeline": [line],
    }


def test_the_answer_carries_known_kinds_and_refuses_others() -> None:
    answer = CustomerTimeline.model_validate(_answer("BookingArrived"))
    assert answer.timeline[0].kind is LineKind.BOOKING_ARRIVED
    with pytest.raises(ValidationError, match="kind"):
        CustomerTimeline.model_validate(_answer("SomethingNew"))
