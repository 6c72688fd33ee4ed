"""Both kustomize overlays render, every object validates offline against the Kubernetes
schemas (and KafkaTopics against Strimzi's), and the manifests agree with the code:
the settings they set exist, the topics are the contract's, the probes are the routes."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest

from slotline.events.auth import AuthSettings
from slotline.events.cli_config import SERVICE_SETTINGS, env_name, settings_class
from slotline.events.production import refuse_unsafe_production
from slotline.events.settings import ServiceSettings
from slotline.events.topic_access import CHANNEL_ADAPTER, SERVICE_TOPICS, TopicAccess
from slotline.events.topics import all_topics_with_dead_letters

pytestmark = pytest.mark.unit

Objects = list[dict[str, Any]]
K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
OLDEST_KUBERNETES = "1.30"  # the preStop `sleep` action is on by default from 1.30
SERVICES = tuple(SERVICE_SETTINGS)
DEPLOYMENTS = {
    **{service: service for service in SERVICES},
    "availability-projector": "availability",
}
"""Every Deployment, and the service whose code and settings it runs."""
KINDS = {
    "Namespace",
    "ConfigMap",
    "Secret",
    "Deployment",
    "Service",
    "PodDisruptionBudget",
    "HorizontalPodAutoscaler",
    "Job",
    "NetworkPolicy",
    "KafkaTopic",
    "KafkaUser",
}
OVERLAYS = ("dev", "prod")


def service_settings(dotted: str) -> type[ServiceSettings]:
    """A service's settings class, by its dotted name in ``SERVICE_SETTINGS``."""
    found = settings_class(dotted)
    assert issubclass(found, ServiceSettings), f"{dotted} is not a ServiceSettings"
    return found


def of_kind(objects: Objects, kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def container(deployment: dict[str, Any], name: str = "service") -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    return next(c for c in containers if c["name"] == name)


def environment(objects: Objects, spec: dict[str, Any]) -> dict[str, str | None]:
    """The variables a container gets: ConfigMap values, ``None`` for secret references."""
    config_maps = of_kind(objects, "ConfigMap")
    env: dict[str, str | None] = {}
    for source in spec.get("envFrom", []):
        env |= config_maps[source["configMapRef"]["name"]]["data"]
    for variable in spec.get("env", []):
        env[variable["name"]] = variable.get("value")
    return env


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest, rendered: dict[str, Objects]) -> Objects:
    return rendered[request.param]


class TestEveryObjectValidates:
    def test_only_kinds_this_suite_validates_are_rendered(self, overlay: Objects) -> None:
        assert {o["kind"] for o in overlay} <= KINDS

    def test_built_in_objects_against_the_kubernetes_schemas(self, overlay: Objects) -> None:
        for obj in overlay:
            if obj["kind"] in ("KafkaTopic", "KafkaUser"):
                continue
            try:
                kubernetes_validate.validate(obj, OLDEST_KUBERNETES, strict=True)
            except kubernetes_validate.ValidationError as error:
                path = ".".join(str(p) for p in error.path)
                pytest.fail(f"{obj['kind']}/{obj['metadata']['name']}: {path}: {error.message}")

    def test_kafka_topics_against_the_strimzi_schema(self, overlay: Objects) -> None:
        schema = json.loads((K8S / "schemas" / "kafkatopic.schema.json").read_text())
        for topic in of_kind(overlay, "KafkaTopic").values():
            jsonschema.validate(topic, schema)

    def test_the_strimzi_schema_refuses_what_strimzi_refuses(self) -> None:
        schema = json.loads((K8S / "schemas" / "kafkatopic.schema.json").read_text())
        good: dict[str, Any] = {
            "apiVersion": "kafka.strimzi.io/v1",
            "kind": "KafkaTopic",
            "metadata": {"name": "a.b.v1", "labels": {"strimzi.io/cluster": "slotline"}},
            "spec": {"partitions": 3, "replicas": 1, "config": {"retention.ms": 1000}},
        }
        jsonschema.validate(good, schema)
        for broken in (
            {**good, "spec": {"partitions": 0}},
            {**good, "spec": {"partition": 3}},
            {**good, "metadata": {"name": "a.b.v1", "labels": {}}},
            {**good, "metadata": {"name": "Upper_Case", "labels": good["metadata"]["labels"]}},
        ):
            with pytest.raises(jsonschema.ValidationError):
                jsonschema.validate(broken, schema)


class TestTopics:
    def test_every_contract_topic_and_dead_letter_topic_is_declared_once(
        self, overlay: Objects
    ) -> None:
        declared = [o["metadata"]["name"] for o in overlay if o["kind"] == "KafkaTopic"]

        assert sorted(declared) == sorted(all_topics_with_dead_letters())

    def test_each_topic_has_a_retention_and_replicas_the_insync_minimum_allows(
        self, overlay: Objects
    ) -> None:
        for name, topic in of_kind(overlay, "KafkaTopic").items():
            config = topic["spec"]["config"]
            assert int(config["retention.ms"]) > 0, name
            assert int(config["min.insync.replicas"]) <= topic["spec"]["replicas"], name

    def test_no_autoscaler_outgrows_the_partitions(self, overlay: Objects) -> None:
        consumed = [t for n, t in of_kind(overlay, "KafkaTopic").items() if not n.endswith(".dlq")]
        fewest = min(t["spec"]["partitions"] for t in consumed)
        for name, hpa in of_kind(overlay, "HorizontalPodAutoscaler").items():
            assert hpa["spec"]["maxReplicas"] <= fewest, f"{name}: idle consumers"

    def test_the_init_job_creates_topics_with_the_declared_partitions(
        self, overlay: Objects
    ) -> None:
        job = of_kind(overlay, "Job")["slotline-init"]["spec"]["template"]["spec"]
        args = job["initContainers"][0]["args"]
        partitions = {t["spec"]["partitions"] for t in of_kind(overlay, "KafkaTopic").values()}

        assert args[:3] == ["slotline", "topics", "create"]
        assert int(args[args.index("--partitions") + 1]) == max(partitions)

    def test_the_init_job_prepares_each_services_database_schema(self, overlay: Objects) -> None:
        job = of_kind(overlay, "Job")["slotline-init"]["spec"]["template"]["spec"]
        schemas = job["containers"][0]["args"][3:]

        assert sorted(schemas) == sorted(
            service_settings(d)().schema_name for d in SERVICE_SETTINGS.values()
        )


class TestKafkaUsers:
    """Issue 17.5: in production each service has its own SCRAM user whose ACLs let it
    write only its own topics; a channel adapter may write only booking.requests.v1."""

    def test_kafka_users_against_the_strimzi_schema(self, rendered: dict[str, Objects]) -> None:
        schema = json.loads((K8S / "schemas" / "kafkauser.schema.json").read_text())
        users = of_kind(rendered["prod"], "KafkaUser")
        assert users
        for user in users.values():
            jsonschema.validate(user, schema)
        broken = {**next(iter(users.values()))}
        broken["spec"] = {"authorization": {"type": "simple", "acls": [{"resource": {}}]}}
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, schema)

    def test_each_users_acls_are_what_topic_access_grants(
        self, rendered: dict[str, Objects]
    ) -> None:
        users = of_kind(rendered["prod"], "KafkaUser")
        wanted = {f"slotline-kafka-{s}": a for s, a in SERVICE_TOPICS.items()}
        wanted["slotline-kafka-channel-adapter"] = CHANNEL_ADAPTER
        for name, access in wanted.items():
            assert granted(users[name]) == expected(access), name
        init = granted(users["slotline-kafka-init"])
        assert all("Write" not in ops and "Read" not in ops for ops in init.values())

    def test_only_channel_adapters_write_booking_requests(self) -> None:
        writers = [s for s, a in SERVICE_TOPICS.items() if "booking.requests.v1" in a.writes]
        assert writers == []
        assert CHANNEL_ADAPTER.writes == {"booking.requests.v1"}

    @pytest.mark.parametrize("service", SERVICES)
    def test_a_service_talks_tls_and_scram_as_its_own_user(
        self, rendered: dict[str, Objects], service: str
    ) -> None:
        prod = rendered["prod"]
        spec = container(of_kind(prod, "Deployment")[service])
        env = environment(prod, spec)
        user = f"slotline-kafka-{service}"
        assert env["SLOTLINE_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
        assert env["SLOTLINE_KAFKA_SASL_USERNAME"] == user
        assert user in of_kind(prod, "KafkaUser")
        password = next(v for v in spec["env"] if v["name"] == "SLOTLINE_KAFKA_SASL_PASSWORD")
        assert password["valueFrom"]["secretKeyRef"] == {"name": user, "key": "password"}
        mounts = {m["mountPath"] for m in spec["volumeMounts"]}
        assert str(Path(env["SLOTLINE_KAFKA_SSL_CA_FILE"] or "").parent) in mounts


def granted(user: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    """A KafkaUser's ACLs: operations per (resource type, name)."""
    acls: dict[tuple[str, str], set[str]] = {}
    for rule in user["spec"]["authorization"]["acls"]:
        resource = rule["resource"]
        acls.setdefault((resource["type"], resource.get("name", "")), set()).update(
            rule["operations"]
        )
    return acls


def expected(access: TopicAccess) -> dict[tuple[str, str], set[str]]:
    acls: dict[tuple[str, str], set[str]] = {}
    for topic in access.writes:
        acls.setdefault(("topic", topic), set()).update({"Write", "Describe"})
    for topic in access.consumes:
        acls.setdefault(("topic", topic), set()).update({"Read", "Describe"})
    acls[("group", access.group_prefix)] = {"Read"}
    return acls


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_has_a_deployment_service_budget_and_autoscaler_that_find_its_pods(
    overlay: Objects, service: str
) -> None:
    deployment = of_kind(overlay, "Deployment")[service]
    pods = deployment["spec"]["template"]["metadata"]["labels"]
    selector = deployment["spec"]["selector"]["matchLabels"]

    assert matches(selector, pods)
    assert matches(of_kind(overlay, "Service")[service]["spec"]["selector"], pods)
    budget = of_kind(overlay, "PodDisruptionBudget")[service]["spec"]
    assert matches(budget["selector"]["matchLabels"], pods)
    target = of_kind(overlay, "HorizontalPodAutoscaler")[service]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", service)
    assert "replicas" not in deployment["spec"]  # the autoscaler owns it


class TestAvailabilityRunsAsApiAndProjector:
    """The slot view in its own process (its settings advise api + projector): holds and
    slot queries never wait behind a day's recomputation for the interpreter lock."""

    def test_one_deployment_serves_and_the_other_projects(self, overlay: Objects) -> None:
        deployments = of_kind(overlay, "Deployment")
        roles = {
            name: environment(overlay, container(deployments[name]))["SLOTLINE_AVAILABILITY_ROLE"]
            for name in ("availability", "availability-projector")
        }
        assert roles == {"availability": "api", "availability-projector": "projector"}

    def test_the_projector_stands_by_twice_with_a_budget_and_takes_no_traffic(
        self, overlay: Objects
    ) -> None:
        deployment = of_kind(overlay, "Deployment")["availability-projector"]
        pods = deployment["spec"]["template"]["metadata"]["labels"]

        assert deployment["spec"]["replicas"] == 2  # one leader, one ready to take over
        assert not any(
            h["spec"]["scaleTargetRef"]["name"] == "availability-projector"
            for h in of_kind(overlay, "HorizontalPodAutoscaler").values()
        )
        budget = of_kind(overlay, "PodDisruptionBudget")["availability-projector"]["spec"]
        assert matches(budget["selector"]["matchLabels"], pods)
        assert not any(  # it answers no public route: no Service sends it requests
            matches(service["spec"]["selector"], pods)
            for service in of_kind(overlay, "Service").values()
        )

    def test_both_use_availabilitys_store_and_kafka_user(self, overlay: Objects) -> None:
        deployments = of_kind(overlay, "Deployment")
        seen = []
        for name in ("availability", "availability-projector"):
            spec = container(deployments[name])
            refs = {
                v["name"]: v["valueFrom"]["secretKeyRef"]["name"]
                for v in spec["env"]
                if "secretKeyRef" in v.get("valueFrom", {})
            }
            env = environment(overlay, spec)
            seen.append((refs["SLOTLINE_DATABASE_URL"], env.get("SLOTLINE_KAFKA_SASL_USERNAME")))
        assert seen[0] == seen[1]
        assert seen[0][0].startswith("slotline-database-availability")  # dev: name-hashed


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
class TestEachDeployment:
    def test_probes_liveness_on_healthz_and_readiness_on_readyz_of_its_http_port(
        self, overlay: Objects, deployment: str
    ) -> None:
        spec = container(of_kind(overlay, "Deployment")[deployment])
        port = next(p for p in spec["ports"] if p["name"] == "http")["containerPort"]

        assert spec["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert spec["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        assert environment(overlay, spec)["SLOTLINE_HTTP_PORT"] == str(port)
        assert environment(overlay, spec)["SLOTLINE_HTTP_HOST"] == "0.0.0.0"

    def test_runs_unprivileged_on_a_read_only_root_with_requests_and_limits(
        self, overlay: Objects, deployment: str
    ) -> None:
        manifest = of_kind(overlay, "Deployment")[deployment]
        pod = manifest["spec"]["template"]["spec"]
        spec = container(manifest)

        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == 10001  # the image's user
        assert spec["securityContext"]["readOnlyRootFilesystem"] is True
        assert spec["securityContext"]["allowPrivilegeEscalation"] is False
        assert spec["securityContext"]["capabilities"]["drop"] == ["ALL"]
        assert pod["automountServiceAccountToken"] is False
        for bound in ("requests", "limits"):
            assert set(spec["resources"][bound]) == {"cpu", "memory"}

    def test_sets_only_settings_the_service_has(self, overlay: Objects, deployment: str) -> None:
        settings = service_settings(SERVICE_SETTINGS[DEPLOYMENTS[deployment]])
        known = {env_name(settings, f) for f in settings.model_fields} | {
            env_name(AuthSettings, f) for f in AuthSettings.model_fields
        }
        spec = container(of_kind(overlay, "Deployment")[deployment])
        configured = {k for k in environment(overlay, spec) if k.startswith("SLOTLINE_")}

        assert configured - known == set()
        assert environment(overlay, spec)["SLOTLINE_SERVICE_NAME"] == settings().service_name

    def test_takes_its_database_url_and_auth_secret_from_secrets(
        self, overlay: Objects, deployment: str
    ) -> None:
        spec = container(of_kind(overlay, "Deployment")[deployment])
        refs = {
            v["name"]: v["valueFrom"]["secretKeyRef"]
            for v in spec["env"]
            if "secretKeyRef" in v.get("valueFrom", {})
        }
        secrets = of_kind(overlay, "Secret")

        assert {"SLOTLINE_DATABASE_URL", "SLOTLINE_AUTH_SECRET"} <= set(refs)
        settings = service_settings(SERVICE_SETTINGS[DEPLOYMENTS[deployment]])
        secret_settings = {
            env_name(settings, name)
            for name, field in settings.model_fields.items()
            if "SecretStr" in str(field.annotation)
        }
        assert set(refs) - {"SLOTLINE_DATABASE_URL", "SLOTLINE_AUTH_SECRET"} <= secret_settings
        for ref in refs.values():  # dev generates them; prod expects them made beforehand
            if secrets:
                assert ref["key"] in secrets[ref["name"]]["data"]

    def test_finishes_in_flight_work_before_the_kubelet_kills_it(
        self, overlay: Objects, deployment: str
    ) -> None:
        manifest = of_kind(overlay, "Deployment")[deployment]
        spec = container(manifest)
        pause = spec["lifecycle"]["preStop"]["sleep"]["seconds"]
        drain = float(environment(overlay, spec)["SLOTLINE_GRACEFUL_TIMEOUT_SECONDS"] or 0)
        grace = manifest["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]

        assert 0 < pause + drain < grace


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_the_prod_overlay_gives_each_service_all_it_needs_to_start_in_production(
    rendered: dict[str, Objects], deployment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every secret by reference (a Secret's value stands in), providers set: the
    service's production check passes — it would refuse to start otherwise."""
    prod = rendered["prod"]
    env = environment(prod, container(of_kind(prod, "Deployment")[deployment]))
    for name in [n for n in os.environ if n.startswith("SLOTLINE_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        if name.startswith("SLOTLINE_"):
            monkeypatch.setenv(name, value if value is not None else f"from-a-secret-{name}")
    settings = service_settings(SERVICE_SETTINGS[DEPLOYMENTS[deployment]])()
    assert settings.environment == "prod"
    refuse_unsafe_production(settings, *settings.production_refusals())
