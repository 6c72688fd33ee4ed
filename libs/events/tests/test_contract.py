"""The public contract: every message round-trips, bad records are refused precisely."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slotline.events.contract import (
    MESSAGES,
    InvalidMessage,
    UndecodableMessage,
    UnknownMessageType,
    messages_on,
    parse_message,
)
from slotline.events.envelope import Message
from slotline.events.schema import rendered_schemas
from slotline.events.testing.samples import sample
from slotline.events.topics import ALL_TOPICS, BOOKING_REQUESTS

pytestmark = pytest.mark.unit

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"


class TestEveryMessage:
    @pytest.mark.parametrize("cls", list(MESSAGES.values()), ids=lambda c: c.EVENT_TYPE)
    def test_round_trips_through_its_topic(self, cls: type[Message]) -> None:
        message = sample(cls)
        assert isinstance(message, Message)
        assert parse_message(cls.TOPIC, message.to_json()) == message

    def test_every_topic_carries_messages(self) -> None:
        assert all(messages_on(topic) for topic in ALL_TOPICS)


class TestRefusals:
    def test_not_json_is_undecodable(self) -> None:
        with pytest.raises(UndecodableMessage, match="not JSON"):
            parse_message(BOOKING_REQUESTS, b"\xff{")

    def test_a_json_array_is_undecodable(self) -> None:
        with pytest.raises(UndecodableMessage, match="not a JSON object but a list"):
            parse_message(BOOKING_REQUESTS, b"[]")

    def test_an_unknown_type_names_what_the_topic_carries(self) -> None:
        raw = json.dumps({"event_type": "Nope", "schema_version": 1}).encode()
        with pytest.raises(UnknownMessageType, match="carries: BookingRequested v1"):
            parse_message(BOOKING_REQUESTS, raw)

    def test_a_message_on_the_wrong_topic_is_unknown_there(self) -> None:
        held = next(c for c in MESSAGES.values() if c.EVENT_TYPE == "HoldPlaced")
        with pytest.raises(UnknownMessageType):
            parse_message(BOOKING_REQUESTS, sample(held).model_dump_json().encode())

    def test_a_schema_violation_names_each_field_and_rule(self) -> None:
        requested = next(c for c in MESSAGES.values() if c.EVENT_TYPE == "BookingRequested")
        data = json.loads(sample(requested).model_dump_json())
        data["contact"]["phone"] = "2101234567"
        del data["service_id"]
        with pytest.raises(InvalidMessage) as refused:
            parse_message(BOOKING_REQUESTS, json.dumps(data).encode())
        assert "contact.phone: String should match pattern" in refused.value.reason
        assert "service_id: Field required" in refused.value.reason

    def test_money_is_never_a_float(self) -> None:
        deposit = next(c for c in MESSAGES.values() if c.EVENT_TYPE == "DepositRequested")
        data = json.loads(sample(deposit).model_dump_json())
        data["amount"]["amount_minor"] = 25.5
        with pytest.raises(InvalidMessage, match=r"amount\.amount_minor"):
            parse_message(deposit.TOPIC, json.dumps(data).encode())


class TestCommittedSchemas:
    def test_the_committed_schemas_are_what_the_code_generates(self) -> None:
        committed = {str(p.relative_to(SCHEMAS)): p.read_text() for p in SCHEMAS.rglob("*.json")}
        assert committed == rendered_schemas(), "run `make schema` and commit libs/events/schemas"
