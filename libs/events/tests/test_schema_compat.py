"""A committed schema may only change compatibly; anything else needs a version bump."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from slotline.events.cli import app
from slotline.events.compat import breaking_changes, check_against_committed
from slotline.events.envelope import ALWAYS_WRITTEN
from slotline.events.schema import rendered_schemas, write_schemas

pytestmark = pytest.mark.unit

REQUESTED = "booking.requests.v1/BookingRequested.v1.json"
CANCELLED = "booking.events.v1/BookingCancelled.v1.json"
WRITTEN = set(ALWAYS_WRITTEN)
Schema = dict[str, Any]


@pytest.fixture
def current() -> dict[str, str]:
    return rendered_schemas()


@pytest.fixture
def requested(current: dict[str, str]) -> Schema:
    schema: Schema = json.loads(current[REQUESTED])
    return schema


def changed(schema: Schema, edit: Callable[[Schema], object]) -> Schema:
    new = copy.deepcopy(schema)
    edit(new)
    return new


class TestBreakingChanges:
    def test_the_same_schema_is_compatible(self, requested: Schema) -> None:
        assert breaking_changes(requested, copy.deepcopy(requested)) == []

    def test_removing_a_required_field_breaks(self, requested: Schema) -> None:
        def drop(s: Schema) -> None:
            del s["properties"]["service_id"]
            s["required"].remove("service_id")

        assert breaking_changes(requested, changed(requested, drop)) == [
            "service_id: field removed"
        ]

    def test_removing_an_optional_field_breaks(self, requested: Schema) -> None:
        new = changed(requested, lambda s: s["properties"].pop("notes"))
        assert breaking_changes(requested, new) == ["notes: optional field removed"]

    def test_changing_a_field_type_breaks(self, requested: Schema) -> None:
        new = changed(requested, lambda s: s["properties"].update(request_id={"type": "integer"}))
        assert breaking_changes(requested, new) == [
            "request_id: type changed from ['string'] to ['integer']"
        ]

    def test_making_a_field_nullable_breaks(self, requested: Schema) -> None:
        nullable = {"anyOf": [{"type": "string"}, {"type": "null"}]}
        new = changed(requested, lambda s: s["properties"].update(service_id=nullable))
        assert breaking_changes(requested, new) == [
            "service_id: type changed from ['string'] to ['null', 'string']"
        ]

    def test_tightening_max_length_breaks(self, requested: Schema) -> None:
        new = changed(requested, lambda s: s["properties"]["request_id"].update(maxLength=10))
        assert breaking_changes(requested, new) == [
            "request_id: maxLength tightened from 128 to 10"
        ]

    def test_raising_min_length_breaks(self, requested: Schema) -> None:
        new = changed(requested, lambda s: s["properties"]["request_id"].update(minLength=5))
        assert breaking_changes(requested, new) == ["request_id: minLength tightened from 1 to 5"]

    def test_changing_a_pattern_breaks(self, requested: Schema) -> None:
        def edit(s: Schema) -> None:
            s["$defs"]["Contact"]["properties"]["language"]["pattern"] = "^[a-z]{2}$"

        [problem] = breaking_changes(requested, changed(requested, edit))
        assert problem.startswith("contact.language: pattern changed from '^[a-z]{2}(-[A-Z]{2})?$'")

    def test_changing_a_format_breaks(self, requested: Schema) -> None:
        new = changed(requested, lambda s: s["properties"]["slot_start"].update(format="date"))
        assert breaking_changes(requested, new) == [
            "slot_start: format changed from 'date-time' to 'date'"
        ]

    def test_removing_an_enum_value_breaks(self, requested: Schema) -> None:
        new = changed(requested, lambda s: s["$defs"]["Channel"]["enum"].remove("kiosk"))
        assert breaking_changes(requested, new) == ["channel: enum values removed: ['kiosk']"]

    def test_adding_an_enum_value_breaks_older_consumers(self, requested: Schema) -> None:
        new = changed(requested, lambda s: s["$defs"]["Channel"]["enum"].append("email"))
        assert breaking_changes(requested, new) == [
            "channel: enum values added: ['email'] (older consumers reject them)"
        ]

    def test_changing_a_constant_breaks(self, requested: Schema) -> None:
        new = changed(requested, lambda s: s["properties"]["event_type"].update(const="Booked"))
        assert breaking_changes(requested, new) == [
            "event_type: constant changed from 'BookingRequested' to 'Booked'"
        ]

    def test_a_new_required_field_breaks(self, requested: Schema) -> None:
        def add(s: Schema) -> None:
            s["properties"]["room"] = {"type": "string"}
            s["required"].append("room")

        assert breaking_changes(requested, changed(requested, add)) == [
            "room: new required field (old messages lack it)"
        ]

    def test_requiring_an_optional_field_breaks(self, requested: Schema) -> None:
        new = changed(requested, lambda s: s["required"].append("notes"))
        assert breaking_changes(requested, new) == [
            "notes: now required (old messages may lack it)"
        ]

    def test_requiring_an_always_written_envelope_field_on_a_slotline_topic_is_compatible(
        self, current: dict[str, str]
    ) -> None:
        new: Schema = json.loads(current[CANCELLED])
        old = changed(new, lambda s: s.update(required=sorted(set(s["required"]) - WRITTEN)))
        assert breaking_changes(old, new) == []

    def test_requiring_it_on_a_topic_outside_writers_write_breaks(self, requested: Schema) -> None:
        new = changed(requested, lambda s: s["required"].append("event_id"))
        assert breaking_changes(requested, new) == [
            "event_id: now required (old messages may lack it)"
        ]

    def test_requiring_another_field_on_a_slotline_topic_still_breaks(
        self, current: dict[str, str]
    ) -> None:
        old: Schema = json.loads(current[CANCELLED])
        new = changed(old, lambda s: s["required"].append("correlation_id"))
        assert breaking_changes(old, new) == [
            "correlation_id: now required (old messages may lack it)"
        ]

    def test_stating_a_rule_the_validators_enforce_is_compatible(self, requested: Schema) -> None:
        assert "anyOf" in requested["$defs"]["Contact"]
        old = changed(requested, lambda s: s["$defs"]["Contact"].pop("anyOf"))
        assert breaking_changes(old, requested) == []

    def test_a_type_change_beside_a_stated_rule_is_still_found(self, requested: Schema) -> None:
        new = changed(requested, lambda s: s["$defs"]["Contact"].update(type="array"))
        assert breaking_changes(requested, new) == [
            "contact: type changed from ['object'] to ['array']"
        ]

    def test_closing_an_object_breaks(self, requested: Schema) -> None:
        new = changed(requested, lambda s: s["$defs"]["Contact"].update(additionalProperties=False))
        assert breaking_changes(requested, new) == [
            "contact: closed to unknown fields (newer messages would be rejected)"
        ]

    def test_a_new_field_on_a_closed_object_breaks(self, requested: Schema) -> None:
        def add(s: Schema) -> None:
            s["$defs"]["Contact"]["additionalProperties"] = False
            s["$defs"]["Contact"]["properties"]["title"] = {"type": "string"}

        old = changed(requested, lambda s: s["$defs"]["Contact"].update(additionalProperties=False))
        assert breaking_changes(old, changed(requested, add)) == [
            "contact.title: new field on a closed object (old readers reject it)"
        ]

    def test_adding_an_optional_field_is_compatible(self, requested: Schema) -> None:
        referrer = {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}
        new = changed(requested, lambda s: s["properties"].update(referrer=referrer))
        assert breaking_changes(requested, new) == []

    def test_loosening_and_documenting_is_compatible(self, requested: Schema) -> None:
        def loosen(s: Schema) -> None:
            s["properties"]["request_id"]["maxLength"] = 256
            s["properties"]["request_id"]["description"] = "Any words."
            del s["$defs"]["Contact"]["properties"]["language"]["pattern"]

        assert breaking_changes(requested, changed(requested, loosen)) == []

    def test_renaming_a_definition_is_compatible(self, requested: Schema) -> None:
        def rename(s: Schema) -> None:
            s["$defs"]["ContactInfo"] = s["$defs"].pop("Contact")
            s["properties"]["contact"]["$ref"] = "#/$defs/ContactInfo"

        assert breaking_changes(requested, changed(requested, rename)) == []

    def test_a_nested_change_is_found_through_refs(self, requested: Schema) -> None:
        new = changed(
            requested, lambda s: s["$defs"]["Contact"]["properties"]["name"].update(maxLength=20)
        )
        assert breaking_changes(requested, new) == [
            "contact.name: maxLength tightened from 200 to 20"
        ]

    def test_a_change_inside_an_optional_value_is_found(self, requested: Schema) -> None:
        new = changed(
            requested,
            lambda s: s["properties"]["preferred_staff_id"]["anyOf"][0].update(maxLength=8),
        )
        assert breaking_changes(requested, new) == [
            "preferred_staff_id: maxLength tightened from 128 to 8"
        ]

    def test_a_recursive_schema_terminates(self) -> None:
        node = {
            "$defs": {
                "Node": {
                    "type": "object",
                    "properties": {
                        "child": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]}
                    },
                }
            },
            "$ref": "#/$defs/Node",
        }
        assert breaking_changes(node, copy.deepcopy(node)) == []


MUTATIONS: dict[str, tuple[Callable[[Schema], object], str]] = {
    "removed required field": (
        lambda s: (s["properties"].pop("channel"), s["required"].remove("channel")),
        "channel: field removed",
    ),
    "changed type": (
        lambda s: s["properties"].update(slot_start={"type": "integer"}),
        "slot_start: type changed",
    ),
    "tightened maxLength": (
        lambda s: s["$defs"]["Contact"]["properties"]["name"].update(maxLength=3),
        "contact.name: maxLength tightened from 200 to 3",
    ),
    "removed enum value": (
        lambda s: s["$defs"]["Channel"]["enum"].remove("partner"),
        "channel: enum values removed: ['partner']",
    ),
}


class TestAgainstCommitted:
    @pytest.mark.parametrize("mutation", list(MUTATIONS))
    def test_an_incompatible_change_is_reported(
        self, tmp_path: Path, current: dict[str, str], mutation: str
    ) -> None:
        write_schemas(tmp_path)
        edit, expected = MUTATIONS[mutation]
        current[REQUESTED] = json.dumps(changed(json.loads(current[REQUESTED]), edit))
        [problem] = check_against_committed(tmp_path, current)
        assert problem.startswith(f"{REQUESTED}: {expected}")

    def test_removing_a_committed_message_type_breaks(
        self, tmp_path: Path, current: dict[str, str]
    ) -> None:
        write_schemas(tmp_path)
        del current[REQUESTED]
        assert check_against_committed(tmp_path, current) == [
            f"{REQUESTED}: message type removed (bump the version, keep the old one)"
        ]

    def test_an_added_optional_field_is_fine(self, tmp_path: Path, current: dict[str, str]) -> None:
        write_schemas(tmp_path)
        schema = json.loads(current[REQUESTED])
        schema["properties"]["referrer"] = {"anyOf": [{"type": "string"}, {"type": "null"}]}
        current[REQUESTED] = json.dumps(schema)
        assert check_against_committed(tmp_path, current) == []

    def test_a_new_version_beside_the_committed_ones_is_fine(
        self, tmp_path: Path, current: dict[str, str]
    ) -> None:
        write_schemas(tmp_path)
        v3 = json.loads(current[REQUESTED])
        del v3["properties"]["notes"]
        v3["properties"]["schema_version"]["const"] = 3
        current["booking.requests.v1/BookingRequested.v3.json"] = json.dumps(v3)
        assert check_against_committed(tmp_path, current) == []

    def test_the_code_is_compatible_with_the_committed_schemas(
        self, current: dict[str, str]
    ) -> None:
        committed = Path(__file__).resolve().parents[1] / "schemas"
        assert check_against_committed(committed, current) == []


class TestSchemaCommand:
    def test_it_writes_every_file_then_finds_them_up_to_date(self, tmp_path: Path) -> None:
        runner = CliRunner()
        written = runner.invoke(app, ["schema", "--out", str(tmp_path)])
        assert written.exit_code == 0, written.output
        assert (tmp_path / "asyncapi.json").is_file()
        assert (tmp_path / REQUESTED).is_file()
        checked = runner.invoke(app, ["schema", "--out", str(tmp_path), "--check"])
        assert checked.exit_code == 0, checked.output

    def test_check_fails_on_stale_files_and_writes_nothing(self, tmp_path: Path) -> None:
        write_schemas(tmp_path)
        stale = tmp_path / "asyncapi.json"
        stale.write_text("{}\n")
        result = CliRunner().invoke(app, ["schema", "--out", str(tmp_path), "--check"])
        assert result.exit_code == 1
        assert "asyncapi.json" in result.output
        assert stale.read_text() == "{}\n"

    def test_breaking_changes_fail_check_and_write_alike(self, tmp_path: Path) -> None:
        write_schemas(tmp_path)
        committed = tmp_path / REQUESTED
        schema = json.loads(committed.read_text())
        schema["properties"]["request_id"]["maxLength"] = 500  # code now says 128: tighter
        committed.write_text(json.dumps(schema))
        for extra in ([], ["--check"]):
            result = CliRunner().invoke(app, ["schema", "--out", str(tmp_path), *extra])
            assert result.exit_code == 1
            assert "request_id: maxLength tightened from 500 to 128" in result.output
        assert json.loads(committed.read_text())["properties"]["request_id"]["maxLength"] == 500
