"""``SlotsChanged`` is published with its slots written straight from the view's rows:
the bytes must be what the message, validated, publishes, and carry the rows."""

from datetime import UTC, date, datetime, timedelta, timezone
from uuid import uuid4

import pytest

from slotline.availability.live.board import DayKey, DayState
from slotline.availability.live.publishing import DayRecord, day_record
from slotline.events.contract.availability import SlotsChanged
from slotline.events.contract.registry import announced_class, parse_message

pytestmark = pytest.mark.unit

ATHENS_WINTER = timezone(timedelta(hours=2))


def _json(instant: datetime) -> str:
    """An instant as the view's query reads it for publishing (``board.JSON_INSTANT``)."""
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _day(start: datetime) -> DayState:
    rows = [
        {
            "slot_start": _json(start + timedelta(minutes=30 * n)),
            "slot_end": _json(start + timedelta(minutes=30 * n + 45)),
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


def _validated(record: DayRecord) -> SlotsChanged:
    message = parse_message(SlotsChanged.TOPIC, record.value)
    assert isinstance(message, SlotsChanged)
    return message


@pytest.mark.parametrize(
    "start",
    [
        datetime(2026, 12, 7, 7, tzinfo=UTC),
        datetime(2026, 12, 7, 9, 0, 0, 250_000, tzinfo=ATHENS_WINTER),  # a fraction of a second
    ],
    ids=["whole seconds", "microseconds"],
)
def test_the_record_is_what_the_validated_message_publishes(start: datetime) -> None:
    day = _day(start)
    record = day_record(day)
    message = _validated(record)
    assert record.value == message.to_json()
    assert record.key == message.aggregate_id.encode()
    assert record.headers == message.record_headers()
    headers = [(k, v.encode()) for k, v in record.headers.items()]
    assert announced_class(SlotsChanged.TOPIC, headers) is SlotsChanged
    key = day.key
    assert (message.tenant_id, message.day, message.sequence) == ("clinic", key.day, 7)
    assert (message.service_id, message.location_id) == (str(key.service_id), str(key.location_id))
    assert [(_json(s.slot.start), _json(s.slot.end)) for s in message.slots] == [
        (row["slot_start"], row["slot_end"]) for row in day.slots
    ]


def test_the_slots_are_the_views_rows_in_order() -> None:
    message = _validated(day_record(_day(datetime(2026, 12, 7, 9, tzinfo=ATHENS_WINTER))))
    first = message.slots[0].slot
    assert first.start == datetime(2026, 12, 7, 7, tzinfo=UTC)
    assert first.end == datetime(2026, 12, 7, 7, 45, tzinfo=UTC)
    assert [s.status.value for s in message.slots] == ["available", "limited", "booked"]
    assert [s.free_resources for s in message.slots] == [3, 1, 0]
    assert [s.seats_left for s in message.slots] == [None, 2, 0]


def test_the_same_day_and_revision_give_the_same_message() -> None:
    day = _day(datetime(2026, 12, 7, 9, tzinfo=ATHENS_WINTER))
    assert day_record(day) == day_record(day)
    later = DayState(day.key, day.revision + 1, day.computed_at, day.slots)
    assert _validated(day_record(later)).event_id != _validated(day_record(day)).event_id
