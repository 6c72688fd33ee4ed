"""The runbook's configuration reference is generated from the settings classes and
stays in step with them: a setting added without regenerating the runbook fails here."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydantic import AfterValidator
from pydantic_settings import BaseSettings
from typer.testing import CliRunner

from slotline.events.auth import AuthSettings
from slotline.events.cli import app
from slotline.events.cli_config import (
    BEGIN,
    END,
    SERVICE_SETTINGS,
    env_name,
    render_reference,
    settings_class,
)
from slotline.events.settings import ServiceSettings

pytestmark = pytest.mark.unit

RUNBOOK = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def committed_reference() -> str:
    text = RUNBOOK.read_text()
    return text.split(BEGIN, 1)[1].split(END, 1)[0].removeprefix("\n")


def every_settings_class() -> list[type[BaseSettings]]:
    return [ServiceSettings, AuthSettings, *map(settings_class, SERVICE_SETTINGS.values())]


class TestTheCommittedReference:
    def test_matches_the_settings_classes(self) -> None:
        assert committed_reference() == render_reference(), (
            "docs/operations.md is stale: run `uv run slotline config-reference`"
        )

    def test_names_every_variable_of_every_settings_class(self) -> None:
        reference = committed_reference()
        for settings in every_settings_class():
            for name in settings.model_fields:
                assert f"`{env_name(settings, name)}`" in reference

    def test_each_named_variable_really_configures_its_setting(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        for settings in every_settings_class():
            for name, field in settings.model_fields.items():
                if field.annotation is not str:
                    continue
                limit = any(isinstance(m, AfterValidator) for m in field.metadata)
                probe = "7/minute" if limit else "probe-value"  # a rate limit's syntax
                monkeypatch.setenv(env_name(settings, name), probe)
                assert getattr(settings(), name) == probe, env_name(settings, name)
                monkeypatch.delenv(env_name(settings, name))


class TestTheCommand:
    def test_check_fails_on_a_stale_runbook_and_writing_mends_it(self, tmp_path: Path) -> None:
        runbook = tmp_path / "operations.md"
        shutil.copy(RUNBOOK, runbook)
        runbook.write_text(
            runbook.read_text().replace("| `SLOTLINE_KAFKA_BOOTSTRAP` |", "| `OLD` |")
        )
        runner = CliRunner()

        stale = runner.invoke(app, ["config-reference", "--doc", str(runbook), "--check"])
        written = runner.invoke(app, ["config-reference", "--doc", str(runbook)])
        fresh = runner.invoke(app, ["config-reference", "--doc", str(runbook), "--check"])

        assert stale.exit_code == 1
        assert "stale" in stale.output
        assert written.exit_code == 0
        assert fresh.exit_code == 0
        assert runbook.read_text() == RUNBOOK.read_text()

    def test_a_runbook_without_markers_is_refused(self, tmp_path: Path) -> None:
        runbook = tmp_path / "operations.md"
        runbook.write_text("# Runbook\n")

        result = CliRunner().invoke(app, ["config-reference", "--doc", str(runbook)])

        assert result.exit_code != 0
        assert runbook.read_text() == "# Runbook\n"
