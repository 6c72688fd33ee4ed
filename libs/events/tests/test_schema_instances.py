"""What a committed schema accepts, the consumers accept (issue 15 item 4).

Instances are generated from every committed JSON Schema (hypothesis-jsonschema) and fed
to ``parse_message``, the decoding and validation every inbox applies before a handler
sees a record (``Inbox.parser``; a ``ContractViolation`` is a dead letter). A schema that
accepts what the parser refuses lies to its writers: channel adapters and analysts have
only the schema.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from jsonschema import Draft202012Validator

from slotline.events.contract.registry import ContractViolation, parse_message
from slotline.events.topics import WRITTEN_OUTSIDE

pytestmark = pytest.mark.unit

COMMITTED = Path(__file__).resolve().parents[1] / "schemas"
SCHEMAS = sorted(
    p.relative_to(COMMITTED).as_posix()
    for p in COMMITTED.glob("*/*.json")
    if p.parent.name != "dead-letters"
)
# Bounded for make test's budget: the topics outside writers write get the most examples.
EXAMPLES_WRITTEN_OUTSIDE = 10
EXAMPLES_OTHERS = 1
# Rules JSON Schema cannot state (it compares no two fields); each is in the description
# of the definition it belongs to, and none is on a topic outside writers write.
UNSTATABLE = {"end must be after start": ("TimeSlot", "end after start")}
# A sealed personal field (a version 2 message) must open with the tenant's key: the
# schema says so in the sealed form's description, and a generated one never opens.
SEALED = ("does not open for this tenant and message type", "Only a value sealed for")
# 2020-12 leaves formats to the reader; Slotline's readers assert them.
FORMATS = {"uuid": st.uuids().map(str)}


def _load(relative: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((COMMITTED / relative).read_text())
    schema.pop("$id")  # hypothesis-jsonschema resolves "#/$defs/…" against a urn: as remote
    return schema


def _unstatable_only(reason: str) -> bool:
    """Whether every broken rule named in ``reason`` is one JSON Schema cannot state."""
    broken = reason.split(": ", 1)[-1].split("; ")
    rules = [*UNSTATABLE, SEALED[0]]
    return all(any(part.endswith(rule) for rule in rules) for part in broken)


def test_every_topic_outside_writers_write_is_covered() -> None:
    assert {relative.split("/")[0] for relative in SCHEMAS} >= set(WRITTEN_OUTSIDE)


@pytest.mark.parametrize("relative", SCHEMAS)
def test_a_schema_valid_message_is_never_refused_as_invalid(relative: str) -> None:
    schema = _load(relative)
    topic = schema["x-topic"]
    outside = topic in WRITTEN_OUTSIDE

    @settings(
        max_examples=EXAMPLES_WRITTEN_OUTSIDE if outside else EXAMPLES_OTHERS,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(from_schema(schema, custom_formats=FORMATS))
    def accepted(instance: dict[str, Any]) -> None:
        try:
            parse_message(topic, json.dumps(instance).encode())
        except ContractViolation as violation:
            if outside or not _unstatable_only(violation.reason):
                raise

    accepted()


@pytest.mark.parametrize(("definition", "stated"), list(UNSTATABLE.values()))
def test_a_rule_json_schema_cannot_state_is_in_its_description(
    definition: str, stated: str
) -> None:
    described = [
        schema["$defs"][definition]["description"]
        for schema in map(_load, SCHEMAS)
        if definition in schema.get("$defs", {})
    ]
    assert described
    assert all(stated in description for description in described)


def test_the_sealed_form_says_only_a_value_sealed_for_the_tenant_opens() -> None:
    sealed = [
        branch
        for schema in map(_load, SCHEMAS)
        for prop in schema.get("properties", {}).values()
        for branch in prop.get("anyOf", [])
        if str(branch.get("pattern", "")).startswith("^sealed:")
    ]
    assert sealed
    assert all(SEALED[1] in branch["description"] for branch in sealed)


REQUESTED = "booking.requests.v1/BookingRequested.v1.json"
A_REQUEST: dict[str, Any] = {
    "event_type": "BookingRequested",
    "schema_version": 1,
    "tenant_id": "demo",
    "aggregate_id": "r-1",
    "request_id": "r-1",
    "channel": "partner",
    "contact": {"name": "Ana", "phone": "+302101234567"},
    "service_id": "s",
    "location_id": "l",
    "slot_start": "2026-12-07T10:00:00+00:00",
}
REFUSED: dict[str, dict[str, Any]] = {
    "a contact without phone or e-mail": {"contact": {"name": "Ana", "phone": None}},
    "a card number for a token": {"payment_token": "tok_4242424242424242"},
    "a NUL in free text": {"notes": "see you\u0000"},
}


class TestWhatTheParserRefusesTheSchemaRefuses:
    def test_the_request_itself_is_valid_to_both(self) -> None:
        assert Draft202012Validator(_load(REQUESTED)).is_valid(A_REQUEST)
        parse_message("booking.requests.v1", json.dumps(A_REQUEST).encode())

    @pytest.mark.parametrize("case", list(REFUSED))
    def test_a_refused_request_is_invalid_to_both(self, case: str) -> None:
        request = {**A_REQUEST, **REFUSED[case]}
        assert not Draft202012Validator(_load(REQUESTED)).is_valid(request)
        with pytest.raises(ContractViolation):
            parse_message("booking.requests.v1", json.dumps(request).encode())
