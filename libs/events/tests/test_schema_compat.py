"""A committed schema may only change compatibly; anything else needs a version bump."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from slotline.events.compat import breaking_changes, check_against_committed
from slotline.events.schema import rendered_schemas, write_schemas

pytestmark = pytest.mark.unit

REQUESTED = "booking.requests.v1/BookingRequested.v1.json"


@pytest.fixture
def current() -> dict[str, str]:
    return rendered_schemas()


@pytest.fixture
def requested(current: dict[str, str]) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(current[REQUESTED])
    return schema


class TestBreakingChanges:
    def test_the_same_schema_is_compatible(self, requested: dict[str, Any]) -> None:
        assert breaking_changes(requested, copy.deepcopy(requested)) == []

    def test_removing_a_required_field_breaks(self, requested: dict[str, Any]) -> None:
        new = copy.deepcopy(requested)
        del new["properties"]["service_id"]
        new["required"].remove("service_id")
        assert breaking_changes(requested, new) == ["service_id: field removed"]

    def test_changing_a_field_type_breaks(self, requested: dict[str, Any]) -> None:
        new = copy.deepcopy(requested)
        new["properties"]["request_id"] = {"type": "integer"}
        [problem] = breaking_changes(requested, new)
        assert problem.startswith("request_id: type changed from ['string'] to ['integer']")

    def test_tightening_max_length_breaks(self, requested: dict[str, Any]) -> None:
        new = copy.deepcopy(requested)
        new["properties"]["request_id"]["maxLength"] = 10
        assert breaking_changes(requested, new) == [
            "request_id: maxLength tightened from 128 to 10"
        ]

    def test_removing_an_enum_value_breaks(self, requested: dict[str, Any]) -> None:
        new = copy.deepcopy(requested)
        new["$defs"]["Channel"]["enum"].remove("kiosk")
        assert breaking_changes(requested, new) == ["channel: enum values removed: ['kiosk']"]

    def test_a_new_required_field_breaks(self, requested: dict[str, Any]) -> None:
        new = copy.deepcopy(requested)
        new["properties"]["room"] = {"type": "string"}
        new["required"].append("room")
        assert breaking_changes(requested, new) == [
            "room: new required field (old messages lack it)"
        ]

    def test_adding_an_optional_field_is_compatible(self, requested: dict[str, Any]) -> None:
        new = copy.deepcopy(requested)
        new["properties"]["referrer"] = {"anyOf": [{"type": "string"}, {"type": "null"}]}
        assert breaking_changes(requested, new) == []

    def test_a_nested_change_is_found_through_refs(self, requested: dict[str, Any]) -> None:
        new = copy.deepcopy(requested)
        new["$defs"]["Contact"]["properties"]["name"]["maxLength"] = 20
        assert breaking_changes(requested, new) == [
            "contact.name: maxLength tightened from 200 to 20"
        ]


class TestAgainstCommitted:
    def test_removing_a_committed_message_type_breaks(
        self, tmp_path: Path, current: dict[str, str]
    ) -> None:
        write_schemas(tmp_path)
        del current[REQUESTED]
        assert check_against_committed(tmp_path, current) == [
            f"{REQUESTED}: message type removed (keep the old version)"
        ]

    def test_a_v2_beside_the_committed_v1_is_fine(
        self, tmp_path: Path, current: dict[str, str]
    ) -> None:
        write_schemas(tmp_path)
        v2 = json.loads(current[REQUESTED])
        del v2["properties"]["notes"]
        current["booking.requests.v1/BookingRequested.v2.json"] = json.dumps(v2)
        assert check_against_committed(tmp_path, current) == []

    def test_the_code_is_compatible_with_the_committed_schemas(
        self, current: dict[str, str]
    ) -> None:
        committed = Path(__file__).resolve().parents[1] / "schemas"
        assert check_against_committed(committed, current) == []
