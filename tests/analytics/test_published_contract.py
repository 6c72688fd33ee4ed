"""The AsyncAPI document and JSON Schemas published in docs/ are the ones the code makes.

If this fails, the contract changed and the published copy was not regenerated: run
``make schema`` and commit docs/asyncapi.json and docs/schemas with the change.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from slotline.events.cli import app
from slotline.events.cli_schema import published_copy, stale_published_copy
from slotline.events.schema import rendered_schemas
from slotline.events.topics import ALL_TOPICS

pytestmark = pytest.mark.unit

DOCS = Path(__file__).resolve().parents[2] / "docs"


class TestThePublishedCopy:
    def test_docs_hold_exactly_what_the_code_generates(self) -> None:
        stale = stale_published_copy(DOCS, rendered_schemas())
        assert stale == [], "run `make schema` and commit docs/asyncapi.json and docs/schemas"

    def test_every_public_topic_has_a_channel_and_a_schema_folder(self) -> None:
        document = json.loads((DOCS / "asyncapi.json").read_text())
        addresses = {channel["address"] for channel in document["channels"].values()}
        for topic in ALL_TOPICS:
            assert topic in addresses
            assert any((DOCS / "schemas" / topic).glob("*.v*.json"))


class TestRegenerating:
    def test_the_schema_command_writes_the_copy_and_check_then_passes(self, tmp_path: Path) -> None:
        runner = CliRunner()
        args = ["schema", "--out", str(tmp_path / "lib"), "--docs-out", str(tmp_path / "docs")]

        written = runner.invoke(app, args)

        assert written.exit_code == 0, written.output
        files = {
            p.relative_to(tmp_path / "docs").as_posix() for p in (tmp_path / "docs").rglob("*.json")
        }
        assert files == set(published_copy(rendered_schemas()))
        assert runner.invoke(app, [*args, "--check"]).exit_code == 0

    def test_check_names_a_changed_or_leftover_published_file(self, tmp_path: Path) -> None:
        runner = CliRunner()
        args = ["schema", "--out", str(tmp_path / "lib"), "--docs-out", str(tmp_path / "docs")]
        runner.invoke(app, args)
        (tmp_path / "docs" / "asyncapi.json").write_text("{}\n")
        leftover = tmp_path / "docs" / "schemas" / "booking.events.v1" / "BookingGone.v1.json"
        leftover.write_text("{}\n")

        checked = runner.invoke(app, [*args, "--check"])

        assert checked.exit_code == 1
        assert "asyncapi.json" in checked.output
        assert "BookingGone.v1.json (no longer generated)" in checked.output

    def test_a_custom_out_alone_leaves_the_docs_alone(self, tmp_path: Path) -> None:
        before = (DOCS / "asyncapi.json").stat().st_mtime_ns

        result = CliRunner().invoke(app, ["schema", "--out", str(tmp_path)])

        assert result.exit_code == 0, result.output
        assert "published" not in result.output
        assert (DOCS / "asyncapi.json").stat().st_mtime_ns == before
