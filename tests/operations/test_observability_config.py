"""The Grafana dashboard and the Prometheus scrape config ask only for metrics the
services export, with labels those metrics have, from targets that exist."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from prometheus_client.metrics import MetricWrapperBase

from slotline.events.cli_config import SERVICE_SETTINGS
from slotline.events.heap import CollectorPauses
from slotline.events.http import RequestContextMiddleware
from slotline.events.metrics import InboxMetrics, RelayMetrics

pytestmark = pytest.mark.unit

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DASHBOARD = DEPLOY / "grafana" / "slotline-overview.json"
SCRAPE_CONFIG = DEPLOY / "prometheus.yml"
# Series Slotline cannot export itself, with the labels their exporter gives them.
EXTERNAL = {"kafka_consumergroup_lag": {"consumergroup", "topic", "partition"}}
ADDED_BY_SCRAPING = {"service", "namespace", "pod", "job", "instance"}
METRIC = re.compile(r"\b((?:slotline|faststream|kafka)_[a-z_]+)\b")


def exported_series() -> dict[str, set[str]]:
    """Every series name a service's registry serves, with its label names."""
    registry = CollectorRegistry()
    RelayMetrics.register(registry)
    InboxMetrics.register(registry)
    CollectorPauses(registry)
    RequestContextMiddleware(app=FastAPI(), registry=registry)
    collectors: Any = registry._collector_to_names  # every metric object registered
    series: dict[str, set[str]] = {}
    for collector in collectors:
        if not isinstance(collector, MetricWrapperBase):
            continue
        labels = set(collector._labelnames)
        for name in registry._collector_to_names[collector]:
            series[name] = labels | ({"le"} if name.endswith("_bucket") else set())
    return series


def expressions() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [
        (panel["title"], target["expr"])
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    ]


class TestTheDashboard:
    def test_queries_only_series_that_are_exported(self) -> None:
        known = exported_series() | EXTERNAL
        for title, expr in expressions():
            for name in METRIC.findall(expr):
                assert name in known, f"{title}: nobody exports {name}"

    def test_groups_and_filters_only_by_labels_the_series_have(self) -> None:
        known = exported_series() | EXTERNAL
        for title, expr in expressions():
            names = METRIC.findall(expr)
            labels = set().union(*(known[n] for n in names)) | ADDED_BY_SCRAPING
            used = {
                label.strip()
                for group in re.findall(r"by \(([^)]*)\)", expr)
                for label in group.split(",")
            } | set(re.findall(r"([a-z_]+)=~?\"", expr))
            assert used <= labels, f"{title}: {used - labels} not on {names}"

    def test_covers_latency_lag_dead_letters_and_relay_lag(self) -> None:
        queried = {name for _, expr in expressions() for name in METRIC.findall(expr)}

        assert "slotline_http_request_seconds_bucket" in queried
        assert "kafka_consumergroup_lag" in queried
        assert "slotline_inbox_dead_lettered_total" in queried
        assert "slotline_relay_lag_seconds_bucket" in queried

    def test_panels_have_unique_ids_a_place_and_the_datasource_variable(self) -> None:
        dashboard = json.loads(DASHBOARD.read_text())
        ids = [panel["id"] for panel in dashboard["panels"]]
        variables = {v["name"] for v in dashboard["templating"]["list"]}

        assert len(ids) == len(set(ids))
        assert {"datasource", "service"} <= variables
        for panel in dashboard["panels"]:
            assert {"h", "w", "x", "y"} <= set(panel["gridPos"])
            if panel["type"] != "row":
                assert panel["datasource"]["uid"] == "${datasource}"
                assert panel["targets"]


class TestTheScrapeConfig:
    def test_compose_targets_are_the_compose_services_on_their_container_port(self) -> None:
        config = yaml.safe_load(SCRAPE_CONFIG.read_text())
        compose = yaml.safe_load((DEPLOY.parent / "docker-compose.yml").read_text())
        job = next(j for j in config["scrape_configs"] if j["job_name"] == "slotline-compose")
        targets = job["static_configs"][0]["targets"]
        port = compose["x-service-env"]["SLOTLINE_HTTP_PORT"]

        for target in targets:
            host, _, target_port = target.partition(":")
            assert host in compose["services"]
            assert target_port == port
        hosts = {target.partition(":")[0] for target in targets}
        assert hosts == set(SERVICE_SETTINGS), "every service is scraped"

    def test_kubernetes_job_keeps_the_pods_the_manifests_annotate(self) -> None:
        config = yaml.safe_load(SCRAPE_CONFIG.read_text())
        pod = yaml.safe_load((DEPLOY / "k8s" / "base" / "service-pod.yaml").read_text())
        annotations = pod["spec"]["template"]["metadata"]["annotations"]
        job = next(j for j in config["scrape_configs"] if j["job_name"] == "slotline-kubernetes")
        sources = {label for rule in job["relabel_configs"] for label in rule["source_labels"]}

        for annotation in annotations:
            meta = "__meta_kubernetes_pod_annotation_" + re.sub(r"[^a-z0-9]", "_", annotation)
            assert meta in sources, f"{annotation} is set on pods but never read"
        assert annotations["prometheus.io/scrape"] == "true"
        assert any(rule.get("target_label") == "service" for rule in job["relabel_configs"])

    def test_every_job_labels_series_with_the_service_the_dashboard_groups_by(self) -> None:
        config = yaml.safe_load(SCRAPE_CONFIG.read_text())
        for job in config["scrape_configs"]:
            if job["job_name"].startswith("slotline-"):
                labels = {rule.get("target_label") for rule in job["relabel_configs"]}
                assert "service" in labels, job["job_name"]
