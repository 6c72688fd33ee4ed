"""Only what must talk can talk: the rendered NetworkPolicies, evaluated the way the
Kubernetes NetworkPolicy API defines (a pod selected by no policy of a direction is
open in it; selected, it allows only the union of the rules that select it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import ip_address, ip_network
from typing import Any

import pytest

pytestmark = pytest.mark.unit

Objects = list[dict[str, Any]]


@dataclass(frozen=True)
class Endpoint:
    """A pod (namespace and labels, named ports) or an address outside the cluster."""

    namespace: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    ip: str | None = None


def selected(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A label selector (matchLabels and In/NotIn/Exists/DoesNotExist expressions)."""
    if not all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values")
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def peer_matches(peer: dict[str, Any], other: Endpoint, policy_namespace: str) -> bool:
    if "ipBlock" in peer:
        if other.ip is None:
            return False  # ipBlock is meant for traffic leaving or entering the cluster
        address = ip_address(other.ip)
        block = peer["ipBlock"]
        excluded = any(address in ip_network(e) for e in block.get("except", []))
        return address in ip_network(block["cidr"]) and not excluded
    if other.ip is not None:
        return False
    namespace_labels = {"kubernetes.io/metadata.name": other.namespace}
    if "namespaceSelector" in peer:
        if not selected(peer["namespaceSelector"], namespace_labels):
            return False
    elif other.namespace != policy_namespace:
        return False
    return "podSelector" not in peer or selected(peer["podSelector"], other.labels)


def port_matches(rule: dict[str, Any], port: int, target: Endpoint) -> bool:
    if "ports" not in rule:
        return True
    for allowed in rule["ports"]:
        number = allowed.get("port")
        if isinstance(number, str):
            number = target.ports.get(number)
        if number is None or number == port:
            return True
    return False


def allowed(
    policies: Objects, direction: str, subject: Endpoint, other: Endpoint, port: int
) -> bool:
    """Whether ``subject`` may send (Egress) to / receive (Ingress) from ``other`` on ``port``."""
    kind = "Egress" if direction == "egress" else "Ingress"
    peers_key = "to" if direction == "egress" else "from"
    target = other if direction == "egress" else subject
    governing = [
        p
        for p in policies
        if p["metadata"]["namespace"] == subject.namespace
        and kind in p["spec"].get("policyTypes", ["Ingress"])
        and selected(p["spec"]["podSelector"], subject.labels)
    ]
    if not governing:
        return True
    return any(
        (
            peers_key not in rule
            or any(peer_matches(peer, other, subject.namespace) for peer in rule[peers_key])
        )
        and port_matches(rule, port, target)
        for policy in governing
        for rule in policy["spec"].get(direction, [])
    )


def talks(policies: Objects, source: Endpoint, target: Endpoint, port: int) -> bool:
    """Traffic needs the source's egress and the target's ingress to allow it."""
    sent = allowed(policies, "egress", source, target, port) if source.ip is None else True
    taken = allowed(policies, "ingress", target, source, port) if target.ip is None else True
    return sent and taken


def service(namespace: str, name: str) -> Endpoint:
    labels = {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/component": "service",
        "app.kubernetes.io/part-of": "slotline",
    }
    return Endpoint(namespace, labels, {"http": 8000})


SERVICES = (
    "availability",
    "availability-projector",
    "booking",
    "payments",
    "notifier",
    "call-intake",
    "analytics",
)
OUTSIDE = Endpoint(ip="203.0.113.7")  # an address on the internet
INSIDE = Endpoint(ip="10.1.2.3")  # a private address that is not the database


@pytest.fixture(params=["dev", "prod"])
def cluster(request: pytest.FixtureRequest, rendered: dict[str, Objects]) -> tuple[str, Objects]:
    objects = rendered[request.param]
    namespace = next(o for o in objects if o["kind"] == "Namespace")["metadata"]["name"]
    return namespace, [o for o in objects if o["kind"] == "NetworkPolicy"]


def database(namespace: str, overlay_policies: Objects) -> Endpoint:
    """Where the overlay's PostgreSQL lives: a pod in dev, the managed subnet in prod."""
    rule = next(p for p in overlay_policies if p["metadata"]["name"] == "slotline-postgresql")
    peer = rule["spec"]["egress"][0]["to"][0]
    if "ipBlock" in peer:
        return Endpoint(ip=str(next(ip_network(peer["ipBlock"]["cidr"]).hosts())))
    return Endpoint(namespace, {"app.kubernetes.io/name": "postgresql"})


def broker(namespace: str) -> Endpoint:
    return Endpoint(namespace, {"strimzi.io/cluster": "slotline", "strimzi.io/kind": "Kafka"})


def init_job(namespace: str) -> Endpoint:
    labels = {
        "app.kubernetes.io/name": "slotline-init",
        "app.kubernetes.io/component": "init",
        "app.kubernetes.io/part-of": "slotline",
    }
    return Endpoint(namespace, labels)


class TestWhatMustTalkCan:
    @pytest.mark.parametrize("name", SERVICES)
    def test_a_service_reaches_kafka_postgresql_dns_and_the_collector(
        self, cluster: tuple[str, Objects], name: str
    ) -> None:
        namespace, policies = cluster
        pod = service(namespace, name)
        dns = Endpoint("kube-system", {"k8s-app": "kube-dns"})
        collector = Endpoint("observability", {"app.kubernetes.io/name": "opentelemetry-collector"})

        for port in (9092, 9093):  # the plain listener (dev) and TLS + SCRAM (prod)
            assert allowed(policies, "egress", pod, broker(namespace), port)
        assert allowed(policies, "egress", pod, database(namespace, policies), 5432)
        assert allowed(policies, "egress", pod, dns, 53)
        assert allowed(policies, "egress", pod, collector, 4318)

    @pytest.mark.parametrize("name", SERVICES)
    def test_the_ingress_controller_and_prometheus_reach_its_http_port(
        self, cluster: tuple[str, Objects], name: str
    ) -> None:
        namespace, policies = cluster
        pod = service(namespace, name)
        ingress = Endpoint("ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"})
        prometheus = Endpoint("monitoring", {"app.kubernetes.io/name": "prometheus"})

        assert allowed(policies, "ingress", pod, ingress, 8000)
        assert allowed(policies, "ingress", pod, prometheus, 8000)

    def test_the_init_job_reaches_kafka_and_postgresql(self, cluster: tuple[str, Objects]) -> None:
        namespace, policies = cluster
        job = init_job(namespace)

        for port in (9092, 9093):
            assert allowed(policies, "egress", job, broker(namespace), port)
        assert allowed(policies, "egress", job, database(namespace, policies), 5432)

    def test_providers_outside_are_reached_by_the_services_that_use_them(
        self, cluster: tuple[str, Objects]
    ) -> None:
        namespace, policies = cluster

        assert talks(policies, service(namespace, "notifier"), OUTSIDE, 587)
        assert talks(policies, service(namespace, "notifier"), OUTSIDE, 443)  # texts: Twilio
        assert talks(policies, service(namespace, "payments"), OUTSIDE, 443)
        assert talks(policies, service(namespace, "call-intake"), OUTSIDE, 443)
        assert talks(policies, service(namespace, "availability"), OUTSIDE, 443)  # CalDAV


class TestNothingElseCan:
    @pytest.mark.parametrize("source", SERVICES)
    def test_services_do_not_call_one_another(
        self, cluster: tuple[str, Objects], source: str
    ) -> None:
        namespace, policies = cluster
        for target in SERVICES:
            if target != source:
                assert not talks(
                    policies, service(namespace, source), service(namespace, target), 8000
                )

    def test_other_namespaces_and_unlabelled_pods_get_no_http(
        self, cluster: tuple[str, Objects]
    ) -> None:
        namespace, policies = cluster
        stranger = Endpoint("default", {"app": "curl"})
        neighbour = Endpoint(namespace, {"app": "debug"})
        grafana = Endpoint("monitoring", {"app.kubernetes.io/name": "grafana"})
        for visitor in (stranger, neighbour, grafana):
            assert not talks(policies, visitor, service(namespace, "booking"), 8000)

    def test_only_the_named_services_reach_the_internet_and_only_on_their_ports(
        self, cluster: tuple[str, Objects]
    ) -> None:
        namespace, policies = cluster

        assert not talks(policies, service(namespace, "booking"), OUTSIDE, 443)
        assert not talks(policies, service(namespace, "availability-projector"), OUTSIDE, 443)
        assert not talks(policies, service(namespace, "availability"), OUTSIDE, 587)
        assert not talks(policies, service(namespace, "analytics"), OUTSIDE, 443)
        assert not talks(policies, service(namespace, "payments"), OUTSIDE, 587)
        assert not talks(policies, init_job(namespace), OUTSIDE, 443)
        assert not talks(policies, service(namespace, "payments"), INSIDE, 443)

    def test_every_slotline_pod_denies_by_default(self, cluster: tuple[str, Objects]) -> None:
        namespace, policies = cluster
        neighbour = Endpoint(namespace, {"app": "debug"})
        for pod in (*(service(namespace, n) for n in SERVICES), init_job(namespace)):
            assert not allowed(policies, "egress", pod, neighbour, 8080)
            assert not allowed(policies, "ingress", pod, neighbour, 8000)

    def test_the_brokers_and_database_pods_are_left_to_their_own_policies(
        self, cluster: tuple[str, Objects]
    ) -> None:
        namespace, policies = cluster
        other = Endpoint(namespace, {"app": "kafka-ui"})

        assert allowed(policies, "egress", broker(namespace), other, 9093)
        assert allowed(policies, "ingress", broker(namespace), other, 9092)
