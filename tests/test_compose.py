"""docker-compose.yml, the Dockerfile and the collector config hang together.

Static checks run everywhere; `docker compose config` runs only where a daemon answers.
"""

import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
SHARED_DOCKERFILE = ROOT / "deploy" / "Dockerfile"
HOST_PORTS = {
    "availability": 8101,
    "booking": 8102,
    "payments": 8103,
    "notifier": 8104,
    "call-intake": 8105,
    "analytics": 8106,
}
REQUIRED_ENV = {
    "SLOTLINE_DATABASE_URL": "postgresql://slotline:slotline@postgres:5432/slotline",
    "SLOTLINE_KAFKA_BOOTSTRAP": "kafka:9092",
    "SLOTLINE_KAFKA_IDEMPOTENCE": "true",
    "SLOTLINE_OTEL_EXPORTER_ENDPOINT": "http://otel-collector:4318",
    "SLOTLINE_HTTP_PORT": "8000",
}


def docker_daemon_answers() -> bool:
    """`docker compose` exists and a daemon responds (the CLI alone proves nothing)."""
    if shutil.which("docker") is None:
        return False
    for probe in (["docker", "info"], ["docker", "compose", "version"]):
        try:
            done = subprocess.run(probe, capture_output=True, timeout=20, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return False
        if done.returncode != 0:
            return False
    return True


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = compose["services"]
    assert isinstance(found, dict)
    return found


def environment(service: dict[str, Any]) -> dict[str, str]:
    """Compose accepts a mapping or a list of KEY=VALUE; normalise to a str mapping."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {
        key: str(value).lower() if isinstance(value, bool) else str(value)
        for key, value in env.items()
    }


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in deps.items()}


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", dockerfile.read_text())
    pairs = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


# --- docker-compose.yml ------------------------------------------------------------


def test_every_service_has_an_image_or_a_build(services: dict[str, dict[str, Any]]) -> None:
    missing = [name for name, svc in services.items() if "image" not in svc and "build" not in svc]
    assert missing == []


def test_build_contexts_and_dockerfiles_exist(services: dict[str, dict[str, Any]]) -> None:
    for name, svc in services.items():
        build = svc.get("build")
        if build is None:
            continue
        if isinstance(build, str):
            build = {"context": build}
        context = ROOT / build.get("context", ".")
        assert context.is_dir(), f"{name}: build context {context} does not exist"
        dockerfile = context / build.get("dockerfile", "Dockerfile")
        assert dockerfile.is_file(), f"{name}: {dockerfile} does not exist"


def test_bind_mounts_exist_and_named_volumes_are_declared(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    for name, svc in compose["services"].items():
        for volume in svc.get("volumes") or []:
            if isinstance(volume, dict):
                source = volume.get("source", "")
                is_bind = volume.get("type") == "bind"
            else:
                source = volume.split(":", 1)[0]
                is_bind = source.startswith((".", "/", "~"))
            if is_bind:
                assert (ROOT / source).exists(), f"{name}: bind-mounted {source} is missing"
            else:
                assert source in declared, f"{name}: volume {source!r} is not declared"


def test_every_depends_on_target_exists(services: dict[str, dict[str, Any]]) -> None:
    for name, svc in services.items():
        unknown = set(depends_on(svc)) - set(services)
        assert not unknown, f"{name} depends on undefined {unknown}"


@pytest.mark.parametrize("name", sorted(HOST_PORTS))
def test_application_service(services: dict[str, dict[str, Any]], name: str) -> None:
    svc = services[name]

    assert svc["build"]["args"]["SERVICE"] == name
    assert (ROOT / svc["build"]["context"] / svc["build"]["dockerfile"]) == SHARED_DOCKERFILE
    env = environment(svc)
    for key, value in REQUIRED_ENV.items():
        assert env.get(key) == value, f"{name}: {key}={env.get(key)!r}, expected {value!r}"
    assert env.get("SLOTLINE_HTTP_HOST") == "0.0.0.0", "services default to 127.0.0.1"
    assert f"{HOST_PORTS[name]}:8000" in svc["ports"]
    assert "/readyz" in " ".join(svc["healthcheck"]["test"])
    assert depends_on(svc) == {
        "postgres": "service_healthy",
        "kafka": "service_healthy",
        "topics": "service_completed_successfully",
        "otel-collector": "service_started",
    }


def test_infrastructure(services: dict[str, dict[str, Any]]) -> None:
    kafka, postgres, topics = services["kafka"], services["postgres"], services["topics"]
    kafka_env = environment(kafka)

    assert kafka["image"] == "apache/kafka:3.9.0"
    assert kafka_env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert kafka_env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert "PLAINTEXT://kafka:9092" in kafka_env["KAFKA_ADVERTISED_LISTENERS"]
    assert "localhost:29092" in kafka_env["KAFKA_ADVERTISED_LISTENERS"]
    assert postgres["image"] == "postgres:16-alpine"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert topics["command"] == ["slotline", "topics", "create"]
    assert topics["build"]["args"]["SERVICE"] == "availability"
    assert depends_on(topics) == {"kafka": "service_healthy"}
    assert services["otel-collector"]["image"].startswith("otel/opentelemetry-collector-contrib")


# --- Dockerfiles -------------------------------------------------------------------


def test_shared_dockerfile_is_multi_stage_non_root_with_healthcheck() -> None:
    steps = instructions(SHARED_DOCKERFILE)
    froms = [i for i, (keyword, _) in enumerate(steps) if keyword == "FROM"]
    final_stage = steps[froms[-1] :]
    users = [args for keyword, args in final_stage if keyword == "USER"]

    assert len(froms) >= 2
    assert users, "the runtime stage sets no USER"
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert any(keyword == "HEALTHCHECK" and "/healthz" in args for keyword, args in final_stage)
    assert any(keyword == "ENTRYPOINT" for keyword, _ in final_stage)


def test_dockerfile_copies_every_workspace_manifest() -> None:
    """The dependency layer copies manifests one by one: a new member must be listed."""
    text = SHARED_DOCKERFILE.read_text()
    for manifest in [ROOT / "libs/events/pyproject.toml", *ROOT.glob("services/*/pyproject.toml")]:
        relative = manifest.relative_to(ROOT).as_posix()
        assert f"COPY {relative} " in text, f"deploy/Dockerfile does not copy {relative}"


def test_shared_dockerfile_is_the_only_one_and_builds_every_service() -> None:
    """One build definition: no service keeps a copy, and SERVICE accepts each of them."""
    members = sorted(path.parent.name for path in ROOT.glob("services/*/pyproject.toml"))
    text = SHARED_DOCKERFILE.read_text()
    accepted = re.search(r'case "\$\{SERVICE\}" in\s*\\\s*([\w|-]+)\)', text)

    assert sorted(ROOT.glob("services/*/Dockerfile")) == [], "build from deploy/Dockerfile"
    assert accepted is not None, "deploy/Dockerfile no longer checks SERVICE"
    assert sorted(accepted.group(1).split("|")) == members
    assert "\nARG SERVICE\n" in text, "SERVICE must have no default"


@pytest.mark.parametrize("name", sorted(HOST_PORTS))
def test_entrypoint_console_script_exists(name: str) -> None:
    project = tomllib.loads((ROOT / "services" / name / "pyproject.toml").read_text())

    assert project["project"]["name"] == f"slotline-{name}"
    assert f"slotline-{name}" in project["project"]["scripts"]


# --- collector ---------------------------------------------------------------------


def test_collector_config() -> None:
    config = yaml.safe_load((ROOT / "deploy" / "otel-collector.yaml").read_text())
    otlp = config["receivers"]["otlp"]["protocols"]

    assert otlp["grpc"]["endpoint"].endswith(":4317")
    assert otlp["http"]["endpoint"].endswith(":4318")
    assert config["exporters"]["prometheus"]["endpoint"].endswith(":8889")
    assert "debug" in config["exporters"]
    for name, pipeline in config["service"]["pipelines"].items():
        for kind in ("receivers", "processors", "exporters"):
            undefined = set(pipeline.get(kind, [])) - set(config[kind])
            assert not undefined, f"pipeline {name} uses undefined {kind} {undefined}"
        assert "batch" in pipeline["processors"]


# --- with a Docker daemon ----------------------------------------------------------


@pytest.mark.skipif(not docker_daemon_answers(), reason="no Docker daemon answers here")
def test_docker_compose_config_is_valid() -> None:
    done = subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE_FILE), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
