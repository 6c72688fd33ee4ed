"""The public contract: every message round-trips, bad records are refused precisely."""

from __future__ import annotations

import inspect
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, ClassVar

import jsonschema
import pytest
from pydantic import BaseModel, ValidationError

from slotline.events.contract import (
    MESSAGES,
    InvalidMessage,
    UndecodableMessage,
    UnknownMessageType,
    audit,
    booking,
    calls,
    messages_on,
    notifications,
    parse_message,
)
from slotline.events.contract import availability_catalog as catalog
from slotline.events.contract.availability import HoldPlaced, HoldRescheduled
from slotline.events.contract.booking_requests import BookingRequested
from slotline.events.contract.common import Contact, Money, TimeSlot, Value
from slotline.events.contract.dead_letter import DeadLetter
from slotline.events.contract.registry import announced_class, register
from slotline.events.envelope import Message
from slotline.events.schema import asyncapi_document, json_schema, write_schemas
from slotline.events.testing.samples import sample
from slotline.events.topics import ALL_TOPICS, BOOKING_REQUESTS, WRITTEN_OUTSIDE, dead_letter_topic

pytestmark = pytest.mark.unit

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
EVERY_MESSAGE = pytest.mark.parametrize(
    "cls", list(MESSAGES.values()), ids=lambda c: f"{c.EVENT_TYPE}.v{c.SCHEMA_VERSION}"
)


PINNED = {"event_type", "schema_version"}  # consts in the schema, documented by the envelope


def sample_json(kind: type[Message]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(sample(kind).model_dump_json())
    return data


def models_within(cls: type[BaseModel]) -> set[type[BaseModel]]:
    """``cls`` and every value model its fields use, however deeply."""
    found: set[type[BaseModel]] = set()
    pending = [cls]
    while pending:
        model = pending.pop()
        if model in found:
            continue
        found.add(model)
        for field in model.model_fields.values():
            for part in _type_parts(field.annotation):
                if isinstance(part, type) and issubclass(part, BaseModel):
                    pending.append(part)
    return found


def _type_parts(annotation: Any) -> list[Any]:
    args = getattr(annotation, "__args__", ())
    return [annotation, *[p for a in args for p in _type_parts(a)]]


class TestEveryMessage:
    @EVERY_MESSAGE
    def test_round_trips_through_its_topic(self, cls: type[Message]) -> None:
        original = sample(cls)
        assert isinstance(original, Message)
        assert parse_message(cls.TOPIC, original.to_json()) == original

    @EVERY_MESSAGE
    def test_its_json_schema_accepts_what_pydantic_writes(self, cls: type[Message]) -> None:
        schema = json_schema(cls)
        jsonschema.Draft202012Validator.check_schema(schema)
        validator = jsonschema.Draft202012Validator(
            schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )
        validator.validate(json.loads(sample(cls).model_dump_json()))

    @EVERY_MESSAGE
    def test_its_schema_pins_type_and_version(self, cls: type[Message]) -> None:
        schema = json_schema(cls)
        assert schema["properties"]["event_type"]["const"] == cls.EVENT_TYPE
        assert schema["properties"]["schema_version"]["const"] == cls.SCHEMA_VERSION
        assert {"event_type", "schema_version"} <= set(schema["required"])
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"

    @EVERY_MESSAGE
    def test_it_is_documented_for_outside_consumers(self, cls: type[Message]) -> None:
        assert "__doc__" in vars(cls), f"{cls.__name__} has no docstring"
        assert inspect.getdoc(cls)
        undescribed = [
            f"{model.__name__}.{name}"
            for model in models_within(cls)
            for name, field in model.model_fields.items()
            if not field.description and name not in PINNED
        ]
        assert undescribed == []

    def test_every_topic_carries_messages(self) -> None:
        assert all(messages_on(topic) for topic in ALL_TOPICS)

    def test_the_registry_keys_each_class_by_its_type_and_version(self) -> None:
        assert all(key == (c.EVENT_TYPE, c.SCHEMA_VERSION) for key, c in MESSAGES.items())
        versions: dict[str, list[int]] = {}
        for event_type, version in MESSAGES:
            versions.setdefault(event_type, []).append(version)
        assert all(sorted(v) == list(range(1, len(v) + 1)) for v in versions.values())

    def test_a_version_two_seals_personal_fields_and_version_one_is_still_read(self) -> None:
        """Issue 17.9: sealing a field is a breaking change for outside readers, so it is
        a new version; the old one stays readable (a subclass: handlers still match). A
        topic outside writers write is sealed by them, for booking (``SEALABLE``)."""
        for (event_type, version), cls in MESSAGES.items():
            if version == 2:
                old = MESSAGES[(event_type, 1)]
                assert cls.PERSONAL or getattr(cls, "SEALABLE", ())
                assert issubclass(old, cls)
                assert old.PERSONAL == ()
                assert getattr(old, "SEALABLE", ()) == ()


PERSONAL_LOOKING = re.compile(
    r"(phone|email|contact|name|text|transcription|url|variables|address)$"
)
NOT_PERSONAL: dict[tuple[type[Message], str], str] = {
    (audit.AccessAudited, "source_address"): "a staff member's address, kept for review",
    (booking.BookingConfirmed, "service_name"): "the business's service",
    (booking.BookingConfirmed, "location_name"): "the business's location",
    (booking.BookingConfirmed, "address"): "the location's street address",
    (calls.CallMissed, "to_phone"): "the business number dialled",
    (calls.CallReceived, "to_phone"): "the business number dialled",
    (catalog.LocationRegistered, "name"): "the business's location",
    (catalog.LocationRegistered, "address"): "the location's street address",
    (catalog.ResourceRegistered, "name"): "a room, device or staff display name",
    (catalog.ResourceUpdated, "name"): "a room, device or staff display name",
    (catalog.ServiceDefined, "name"): "the business's service",
    (notifications.TextBackRequested, "from_phone"): "the business number the caller dialled",
    (notifications.TextBackRequested, "business_name"): "the business",
    (calls.WhatsAppMessageReceived, "to_phone"): "the business number written to",
}


def test_every_personal_looking_field_on_a_slotline_topic_is_sealed_or_said_not_to_be() -> None:
    """Issue 17.9: a new field with a customer's phone or text must not slip onto a
    public topic in clear; each such name is sealed (``PERSONAL``) or listed above."""
    newest = {t: max(v for u, v in MESSAGES if u == t) for t, _ in MESSAGES}
    unsealed = {
        (cls, name)
        for (event_type, version), cls in MESSAGES.items()
        if cls.TOPIC not in WRITTEN_OUTSIDE and version == newest[event_type]
        for name in cls.model_fields
        if PERSONAL_LOOKING.search(name) and name not in cls.PERSONAL
    }
    assert unsealed == set(NOT_PERSONAL)


class TestRegistry:
    def test_a_duplicate_type_and_version_fails_loudly(self) -> None:
        class HoldPlaced(Message):
            TOPIC: ClassVar[str] = BOOKING_REQUESTS

        with pytest.raises(TypeError, match="HoldPlaced v1 defined twice"):
            register([*MESSAGES.values(), HoldPlaced])

    def test_an_unknown_topic_fails_loudly(self) -> None:
        class Stray(Message):
            TOPIC: ClassVar[str] = "nowhere.v1"

        with pytest.raises(TypeError, match=r"unknown topic 'nowhere\.v1'"):
            register([Stray])


class TestAnnouncedClass:
    """The class a record's headers name, read before its body (to pass by undecoded
    what no handler takes)."""

    @EVERY_MESSAGE
    def test_the_headers_a_publisher_sets_name_the_message_class(self, cls: type[Message]) -> None:
        message = sample(cls)
        assert isinstance(message, Message)
        headers = [(k, v.encode()) for k, v in message.record_headers().items()]
        assert announced_class(cls.TOPIC, headers) is cls

    @pytest.mark.parametrize(
        "headers",
        [
            [],
            [("event_type", b"HoldPlaced")],
            [("event_type", b"HoldPlaced"), ("schema_version", b"one")],
            [("event_type", b"HoldPlaced"), ("schema_version", b"99")],
            [("event_type", b"\xff"), ("schema_version", b"1")],
            [("event_type", b"BookingConfirmed"), ("schema_version", b"2")],
        ],
        ids=[
            "none",
            "no version",
            "version not a number",
            "unknown version",
            "not UTF-8",
            "another topic's",
        ],
    )
    def test_headers_that_name_no_class_of_the_topic_name_none(
        self, headers: list[tuple[str, bytes]]
    ) -> None:
        assert announced_class(HoldPlaced.TOPIC, headers) is None


class TestRefusals:
    def test_not_json_is_undecodable(self) -> None:
        with pytest.raises(UndecodableMessage, match="not JSON"):
            parse_message(BOOKING_REQUESTS, b"\xff{")

    def test_nan_is_not_json(self) -> None:
        with pytest.raises(UndecodableMessage, match="NaN is not JSON"):
            parse_message(BOOKING_REQUESTS, b'{"event_type": NaN}')

    def test_a_json_array_is_undecodable(self) -> None:
        with pytest.raises(UndecodableMessage, match="not a JSON object but a list"):
            parse_message(BOOKING_REQUESTS, b"[]")

    def test_an_unknown_type_names_what_the_topic_carries(self) -> None:
        raw = json.dumps({"event_type": "Nope", "schema_version": 1}).encode()
        carried = "carries: BookingRequested v2, BookingRequested v1"
        with pytest.raises(UnknownMessageType, match=carried):
            parse_message(BOOKING_REQUESTS, raw)

    def test_an_unknown_version_is_unknown(self) -> None:
        data = sample_json(BookingRequested) | {"schema_version": 7}
        with pytest.raises(UnknownMessageType, match="no 'BookingRequested' v7"):
            parse_message(BOOKING_REQUESTS, json.dumps(data).encode())

    def test_a_boolean_version_is_not_a_version(self) -> None:
        data = sample_json(BookingRequested) | {"schema_version": True}
        with pytest.raises(UnknownMessageType, match="schema_version \\(integer\\)"):
            parse_message(BOOKING_REQUESTS, json.dumps(data).encode())

    def test_a_message_on_the_wrong_topic_is_unknown_there(self) -> None:
        with pytest.raises(UnknownMessageType):
            parse_message(BOOKING_REQUESTS, sample(HoldPlaced).model_dump_json().encode())

    def test_a_schema_violation_names_each_field_and_rule(self) -> None:
        data = sample_json(BookingRequested)
        data["contact"]["phone"] = "2101234567"
        del data["service_id"]
        with pytest.raises(InvalidMessage) as refused:
            parse_message(BOOKING_REQUESTS, json.dumps(data).encode())
        assert "contact.phone: String should match pattern" in refused.value.reason
        assert "service_id: Field required" in refused.value.reason

    def test_money_is_never_a_float(self) -> None:
        data = sample_json(booking.DepositRequested)
        data["amount"]["amount_minor"] = 25.5
        with pytest.raises(InvalidMessage, match=r"amount\.amount_minor"):
            parse_message(booking.DepositRequested.TOPIC, json.dumps(data).encode())

    def test_a_card_number_is_refused_and_not_repeated(self) -> None:
        data = sample_json(BookingRequested) | {"payment_token": "4242424242424242"}
        with pytest.raises(InvalidMessage) as refused:
            parse_message(BOOKING_REQUESTS, json.dumps(data).encode())
        assert "payment_token: Value error, looks like a card number" in refused.value.reason
        assert "4242" not in refused.value.reason

    def test_a_slot_that_ends_before_it_starts_is_refused(self) -> None:
        data = sample_json(HoldRescheduled)
        data["slot"]["end"] = data["slot"]["start"]
        with pytest.raises(InvalidMessage, match="slot: Value error, end must be after start"):
            parse_message(HoldRescheduled.TOPIC, json.dumps(data).encode())

    def test_a_naive_time_is_refused(self) -> None:
        data = sample_json(BookingRequested) | {"slot_start": "2026-12-01T09:00:00"}
        with pytest.raises(InvalidMessage, match="slot_start: Input should have timezone info"):
            parse_message(BOOKING_REQUESTS, json.dumps(data).encode())


class TestValues:
    def test_a_time_slot_is_kept_in_utc(self) -> None:
        athens = timezone(timedelta(hours=2))
        slot = TimeSlot(
            start=datetime(2026, 12, 1, 11, 0, tzinfo=athens),
            end=datetime(2026, 12, 1, 12, 0, tzinfo=athens),
        )
        assert slot.start == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
        assert slot.start.tzinfo is UTC
        assert slot.end.tzinfo is UTC

    @pytest.mark.parametrize(
        ("amount", "currency", "rule"),
        [(-1, "EUR", "greater than or equal to 0"), (100, "eur", "should match pattern")],
    )
    def test_money_is_non_negative_minor_units_in_iso_currency(
        self, amount: int, currency: str, rule: str
    ) -> None:
        with pytest.raises(ValidationError, match=rule):
            Money(amount_minor=amount, currency=currency)

    def test_a_contact_needs_a_phone_or_an_email(self) -> None:
        with pytest.raises(ValidationError, match="needs a phone number or an e-mail"):
            Contact(name="Ana")

    def test_values_ignore_fields_added_later(self) -> None:
        money = Money.model_validate({"amount_minor": 1, "currency": "EUR", "tax_minor": 0})
        assert money == Money(amount_minor=1, currency="EUR")
        assert all(v.model_config.get("extra") == "ignore" for v in Value.__subclasses__())


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return asyncapi_document()


class TestAsyncApi:
    def test_every_topic_and_its_dead_letters_is_a_channel(self, document: dict[str, Any]) -> None:
        addresses = {channel["address"] for channel in document["channels"].values()}
        assert addresses == {t for topic in ALL_TOPICS for t in (topic, dead_letter_topic(topic))}
        assert document["asyncapi"] == "3.0.0"

    def test_each_channel_carries_its_messages(self, document: dict[str, Any]) -> None:
        for channel in document["channels"].values():
            address = channel["address"]
            expected = (
                ["DeadLetter"]
                if address.endswith(".dlq")
                else [f"{c.EVENT_TYPE}.v{c.SCHEMA_VERSION}" for c in messages_on(address)]
            )
            assert sorted(channel["messages"]) == sorted(expected)

    def test_every_channel_is_sent_and_received(self, document: dict[str, Any]) -> None:
        actions = {(op["channel"]["$ref"], op["action"]) for op in document["operations"].values()}
        assert actions == {
            (f"#/channels/{name}", action)
            for name in document["channels"]
            for action in ("send", "receive")
        }

    def test_every_reference_resolves(self, document: dict[str, Any]) -> None:
        def refs(node: Any) -> list[str]:
            if isinstance(node, dict):
                own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
                return own + [r for value in node.values() for r in refs(value)]
            if isinstance(node, list):
                return [r for value in node for r in refs(value)]
            return []

        for ref in refs(document):
            target: Any = document
            for part in ref.removeprefix("#/").split("/"):
                assert part in target, f"dangling {ref}"
                target = target[part]

    def test_the_dead_letter_payload_is_the_dead_letter_model(
        self, document: dict[str, Any]
    ) -> None:
        payload = document["components"]["schemas"]["DeadLetter"]
        assert set(payload["required"]) == set(DeadLetter.model_fields)
        assert payload["properties"]["original_headers"]["additionalProperties"] == {
            "type": "string"
        }


class TestCommittedSchemas:
    def test_the_generator_writes_exactly_the_committed_files(self, tmp_path: Path) -> None:
        write_schemas(tmp_path)
        generated = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*.json")}
        committed = {p.relative_to(SCHEMAS): p.read_bytes() for p in SCHEMAS.rglob("*.json")}
        assert sorted(generated) == sorted(committed), "run `make schema`"
        assert generated == committed, "run `make schema` and commit libs/events/schemas"

    def test_files_are_sorted_indented_and_end_with_a_newline(self) -> None:
        text = (SCHEMAS / "asyncapi.json").read_text()
        assert text.endswith("}\n")
        assert (
            text
            == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        )

    def test_a_dead_letter_round_trips(self) -> None:
        letter = DeadLetter(
            reason="contact.phone: String should match pattern",
            error_type="InvalidMessage",
            original_topic=BOOKING_REQUESTS,
            original_partition=0,
            original_offset=42,
            original_key="req-1",
            original_headers={"traceparent": "00-abc-def-01"},
            original_payload="{}",
            failed_at=datetime(2026, 12, 1, tzinfo=UTC),
            consumer="booking",
        )
        assert DeadLetter.model_validate_json(letter.model_dump_json()) == letter


class TestCardNumbersStayOut:
    def test_a_card_number_is_masked_and_other_digits_are_kept(self) -> None:
        from slotline.events.contract.common import redact_card_numbers

        text = '{"token": "4242 4242 4242 4242", "phone": "+306941234567", "n": "1234567890123"}'
        masked = redact_card_numbers(text)
        assert "4242" not in masked
        assert "[card number removed]" in masked
        assert "+306941234567" in masked
        assert "1234567890123" in masked  # 13 digits failing the Luhn check are not a card

    def test_identifiers_are_never_taken_for_card_numbers(self) -> None:
        """1 random UUID in ~470 has all-digit groups whose digits pass the Luhn check
        (a payment id in a gateway webhook was refused for it); hex ids and gateway ids
        hold digit runs inside a word. Card numbers on their own still count."""
        from slotline.events.contract.common import contains_card_number, redact_card_numbers

        flagged_before = "c3034515-9729-39b0-db43-738610d5fe14"  # 3034515-9729-39: Luhn
        assert not contains_card_number(flagged_before)
        payload = f'{{"payment_id": "{flagged_before}"}}'
        assert redact_card_numbers(payload) == payload
        assert not contains_card_number("whs_4242424242424242abcdef")
        assert not contains_card_number("pi_3N4242424242424242")
        for card in ("4242424242424242", "4242 4242 4242 4242", "4242-4242-4242-4242"):
            assert contains_card_number(f"note: my card is {card}, thanks")
            assert redact_card_numbers(f"card {card}!") == "card [card number removed]!"
