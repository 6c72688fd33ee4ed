"""A day's view is read in two steps: its envelope at once, its slots when asked."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from slotline.booking.messaging.day_views import UnreadDay, parse_record
from slotline.events.contract.availability import HoldConfirmed, SlotsChanged
from slotline.events.contract.registry import ContractViolation, parse_message
from slotline.events.topics import AVAILABILITY_EVENTS

pytestmark = pytest.mark.unit

DAY = date(2027, 3, 2)
OPENS = datetime(2027, 3, 2, 7, tzinfo=UTC)


def view(**changes: Any) -> dict[str, Any]:
    """A day's view as availability publishes it, as JSON data."""
    slots = [
        {
            "slot": {
                "start": (OPENS + timedelta(minutes=15 * i)).isoformat(),
                "end": (OPENS + timedelta(minutes=15 * i + 60)).isoformat(),
            },
            "status": "available",
            "free_resources": 2,
            "seats_left": None,
        }
        for i in range(30)
    ]
    message = SlotsChanged(
        tenant_id="clinic-a",
        aggregate_id=f"massage-60:loc-1:{DAY}",
        sequence=4,
        occurred_at=OPENS,
        service_id="massage-60",
        location_id="loc-1",
        day=DAY,
        slots=slots,
    )
    return {**message.model_dump(mode="json"), **changes}


def written(data: dict[str, Any], separators: tuple[str, str] = (",", ":")) -> bytes:
    return json.dumps(data, separators=separators).encode()


def test_a_view_is_read_without_its_slots_and_whole_when_asked() -> None:
    raw = written(view())
    unread = parse_record(AVAILABILITY_EVENTS, raw)
    assert isinstance(unread, UnreadDay)
    assert isinstance(unread, SlotsChanged)  # handled, and matched, as the view it is
    assert unread.event_type == SlotsChanged.EVENT_TYPE
    assert (unread.tenant_id, unread.service_id, unread.location_id, unread.day) == (
        "clinic-a",
        "massage-60",
        "loc-1",
        DAY,
    )
    assert unread.slots == []
    whole = unread.read()
    assert whole == parse_message(AVAILABILITY_EVENTS, raw)
    assert len(whole.slots) == 30


def test_slots_that_break_the_contract_are_refused_when_read() -> None:
    data = view()
    first = data["slots"][0]["slot"]
    first["start"], first["end"] = first["end"], first["start"]  # ends before it starts
    raw = written(data)
    with pytest.raises(ContractViolation):
        parse_message(AVAILABILITY_EVENTS, raw)
    unread = parse_record(AVAILABILITY_EVENTS, raw)
    assert isinstance(unread, UnreadDay)
    with pytest.raises(ContractViolation, match="slots"):
        unread.read()


def test_a_broken_envelope_gets_the_contract_s_own_error_at_once() -> None:
    raw = written(view(day="the second of March"))
    with pytest.raises(ContractViolation) as whole:
        parse_message(AVAILABILITY_EVENTS, raw)
    with pytest.raises(ContractViolation) as two_step:
        parse_record(AVAILABILITY_EVENTS, raw)
    assert str(two_step.value) == str(whole.value)


def test_a_view_in_another_writer_s_spacing_is_read_in_two_steps_too() -> None:
    raw = written(view(), separators=(", ", ": "))
    unread = parse_record(AVAILABILITY_EVENTS, raw)
    assert isinstance(unread, UnreadDay)
    assert unread.read() == parse_message(AVAILABILITY_EVENTS, raw)


def test_slots_that_are_not_a_list_get_the_contract_s_own_error_at_once() -> None:
    raw = written(view(slots=None))
    with pytest.raises(ContractViolation) as whole:
        parse_message(AVAILABILITY_EVENTS, raw)
    with pytest.raises(ContractViolation) as two_step:
        parse_record(AVAILABILITY_EVENTS, raw)
    assert str(two_step.value) == str(whole.value)


def test_other_messages_are_parsed_as_before() -> None:
    confirmed = HoldConfirmed(
        tenant_id="clinic-a",
        aggregate_id=str(uuid4()),
        sequence=2,
        hold_id=str(uuid4()),
        booking_id=str(uuid4()),
        slot={"start": OPENS, "end": OPENS + timedelta(hours=1)},
        resource_ids=[str(uuid4())],
    )
    raw = written(confirmed.model_dump(mode="json"))
    assert parse_record(AVAILABILITY_EVENTS, raw) == parse_message(AVAILABILITY_EVENTS, raw)
