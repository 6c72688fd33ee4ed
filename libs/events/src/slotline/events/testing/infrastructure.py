"""Which real PostgreSQL and Kafka-protocol broker the tests use.

``SLOTLINE_TEST_INFRA`` chooses: ``external`` (``SLOTLINE_DATABASE_URL`` and
``SLOTLINE_KAFKA_BOOTSTRAP``), ``containers`` (testcontainers: postgres and Apache
Kafka KRaft images, needs a Docker daemon), ``embedded`` (the wheels ``make run``
uses). Unset: containers when a Docker daemon answers a ping, else embedded.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from slotline.events.local.infra import EmbeddedKafka, EmbeddedPostgres


def docker_daemon_answers() -> bool:
    """True only when a Docker daemon answers a ping (a CLI on PATH proves nothing)."""
    try:
        import docker

        client = docker.from_env(timeout=3)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def chosen_mode() -> str:
    mode = os.environ.get("SLOTLINE_TEST_INFRA", "").strip().lower()
    if mode in {"external", "containers", "embedded"}:
        return mode
    if mode:
        raise ValueError(f"SLOTLINE_TEST_INFRA={mode!r}: use external, containers or embedded")
    return "containers" if docker_daemon_answers() else "embedded"


@dataclass
class TestInfrastructure:
    """One PostgreSQL server for the session; Kafka brokers per test where possible."""

    mode: str
    admin_url: str
    shared_kafka: str | None
    kafka_idempotence: bool = False
    _stops: list[Callable[[], None]] = field(default_factory=list)

    def new_database(self) -> str:
        """A fresh, empty database on the session's server."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return _with_database(self.admin_url, name)

    def new_kafka(self) -> tuple[str, Callable[[], None]]:
        """A broker for one test: a fresh embedded one, or the shared one."""
        if self.shared_kafka is not None:
            return self.shared_kafka, lambda: None
        broker = EmbeddedKafka().start()
        return broker.bootstrap, broker.stop

    def close(self) -> None:
        for stop in reversed(self._stops):
            stop()


def _with_database(url: str, database: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def start_infrastructure() -> TestInfrastructure:
    mode = chosen_mode()
    if mode == "external":
        return TestInfrastructure(
            mode,
            os.environ["SLOTLINE_DATABASE_URL"],
            os.environ["SLOTLINE_KAFKA_BOOTSTRAP"],
            kafka_idempotence=os.environ.get("SLOTLINE_KAFKA_IDEMPOTENCE", "").lower() == "true",
        )
    if mode == "containers":
        return _containers()
    root = Path(tempfile.mkdtemp(prefix="slotline-test-"))
    postgres = EmbeddedPostgres(root / "pg").start()
    # Tests kill services, never this server, so a commit need not wait for the disk:
    # 1.1 ms → 0.2 ms a commit on the 2-core test machine (2026-12-05), and a test run
    # commits a great many. Benchmarks and `make run` keep PostgreSQL's default.
    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET synchronous_commit = off")
        conn.execute("SELECT pg_reload_conf()")
    infra = TestInfrastructure(mode, postgres.url(), None)
    infra._stops += [lambda: shutil.rmtree(root, ignore_errors=True), postgres.stop]
    return infra


def _containers() -> TestInfrastructure:
    if not docker_daemon_answers():
        raise RuntimeError("SLOTLINE_TEST_INFRA=containers but no Docker daemon answers a ping")
    from testcontainers.community.kafka import KafkaContainer
    from testcontainers.community.postgres import PostgresContainer

    postgres = PostgresContainer("postgres:16-alpine", driver=None).start()
    kafka = KafkaContainer("confluentinc/cp-kafka:7.6.0").with_kraft().start()
    infra = TestInfrastructure(
        "containers",
        postgres.get_connection_url(),
        kafka.get_bootstrap_server(),
        kafka_idempotence=True,  # Apache Kafka (Confluent's build), KRaft mode
    )
    infra._stops += [postgres.stop, kafka.stop]
    return infra
