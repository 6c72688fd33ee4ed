"""``SlotsChanged`` is built from the view's rows without validating each slot: what it
carries must be what a validated build would carry, instants in UTC."""

from datetime import UTC, date, datetime, timedelta, timezone
from uuid import uuid4

import pytest

from slotline.availability.live.board import DayKey, DayState
from slotline.availability.live.publishing import slots_changed
from slotline.events.contract.availability import SlotsChanged
from slotline.events.contract.registry import parse_message

pytestmark = pytest.mark.unit

ATHENS_WINTER = timezone(timedelta(hours=2))


def _day() -> DayState:
    start = datetime(2026, 12, 7, 9, tzinfo=ATHENS_WINTER)  # as a session not in UTC reads it
    rows = [
        {
            "slot_start": start + timedelta(minutes=30 * n),
            "slot_end": start + timedelta(minutes=30 * n + 45),
            "status": status,
            "free_resources": free,
            "seats_left": seats,
        }
        for n, (status, free, seats) in enumerate(
            [("available", 3, None), ("limited", 1, 2), ("booked", 0, 0)]
        )
    ]
    key = DayKey("clinic", uuid4(), uuid4(), date(2026, 12, 7))
    return DayState(key, 7, datetime(2026, 12, 6, 10, tzinfo=UTC), rows)


def test_the_message_is_what_a_validated_build_would_be_with_instants_in_utc() -> None:
    day = _day()
    message = slots_changed(day)
    validated = SlotsChanged.model_validate(message.model_dump())
    assert message == validated
    assert message.to_json() == validated.to_json()
    assert parse_message(SlotsChanged.TOPIC, message.to_json()) == validated
    first = message.slots[0].slot
    assert first.start == datetime(2026, 12, 7, 7, tzinfo=UTC)
    assert first.start.utcoffset() == timedelta(0)
    assert first.end.utcoffset() == timedelta(0)
    assert [s.status.value for s in message.slots] == ["available", "limited", "booked"]
    assert [s.seats_left for s in message.slots] == [None, 2, 0]


def test_the_same_day_and_revision_give_the_same_message_id() -> None:
    day = _day()
    assert slots_changed(day).event_id == slots_changed(day).event_id
