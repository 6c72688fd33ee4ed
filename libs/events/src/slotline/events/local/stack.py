"""``make run``: the whole system on one machine, on embedded infrastructure.

Starts PostgreSQL (data kept in ``.data/postgres``) and the Kafka-protocol broker
unless ``SLOTLINE_DATABASE_URL`` / ``SLOTLINE_KAFKA_BOOTSTRAP`` point elsewhere,
creates the topics, starts each service as its own process, waits for every
``/readyz``, prints the URLs and a local token, and on Ctrl-C stops everything.

Like an orchestrator it keeps what it started up (:mod:`.supervisor`): a service that
exits unexpectedly is restarted with backoff while the others keep running; the broker
too — it comes back empty (memory storage), so the stack holds the services still until
it has re-created the topics, counts the restart, and starts every service afresh: each
relay publishes its store again, each consumer reads from the start. Only Ctrl-C, or a
process that keeps crashing, stops the stack.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO

import httpx
import psycopg
from psycopg import sql

from slotline.events.auth import AuthSettings, TokenIssuer
from slotline.events.kafka import ensure_topics
from slotline.events.local.infra import EmbeddedKafka, EmbeddedPostgres, free_port
from slotline.events.local.supervisor import Supervisor
from slotline.events.relay import BROKER_EPOCHS, BROKER_RESTARTED

SERVICES: tuple[str, ...] = (
    "availability",
    "booking",
    "payments",
    "notifier",
    "call-intake",
    "analytics",
)
WEB = "web"
"""The booking page and console: started last (it calls the others), printed first."""
_COLOURS = ("\033[36m", "\033[35m", "\033[33m", "\033[32m", "\033[34m", "\033[91m", "\033[96m")
_RESET = "\033[0m"


@dataclass
class ServiceProcess:
    name: str
    port: int
    supervisor: Supervisor | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        """The service's current process (a new one after each restart)."""
        if self.supervisor is None or self.name not in self.supervisor.watched:
            return None
        return self.supervisor.watched[self.name].process


@dataclass
class LocalStack:
    """Infrastructure plus one process per service; :meth:`stop` leaves nothing behind."""

    data_dir: Path
    base_port: int = 8101
    ready_timeout: float = 60.0
    services: list[ServiceProcess] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict)
    quiet: bool = False
    """Services' output to ``<data_dir>/logs/<service>.log`` instead of the terminal."""
    supervisor: Supervisor = field(init=False)
    database_url: str = ""
    bootstrap: str = ""
    _postgres: EmbeddedPostgres | None = None
    _kafka: EmbeddedKafka | None = None
    _output_lock: threading.Lock = field(default_factory=threading.Lock)
    broker_restarts: int = 0
    """How often the embedded broker came back (and had its topics again)."""

    def __post_init__(self) -> None:
        self.supervisor = Supervisor(lambda text: self._say("stack", text, "\033[1;31m"))

    def start(self) -> None:
        started = time.monotonic()
        (self.data_dir / "logs").mkdir(parents=True, exist_ok=True)
        database_url = os.environ.get("SLOTLINE_DATABASE_URL")
        if not database_url:
            self._postgres = EmbeddedPostgres(self.data_dir / "postgres").start()
            database_url = self._postgres.create_database("slotline")
        self.database_url = database_url
        count_broker_restarts(database_url)
        bootstrap = os.environ.get("SLOTLINE_KAFKA_BOOTSTRAP")
        if not bootstrap:
            port = 9092 if _port_is_free(9092) else free_port()
            self.supervisor.watch("broker", self._launch_broker(port), self._broker_restarted)
            assert self._kafka is not None
            bootstrap = self._kafka.bootstrap
        self.bootstrap = bootstrap
        asyncio.run(ensure_topics(bootstrap))
        self._say("stack", f"postgres {database_url}\nkafka    {bootstrap}")
        env = {
            **os.environ,
            "SLOTLINE_DATABASE_URL": database_url,
            "SLOTLINE_KAFKA_BOOTSTRAP": bootstrap,
            "SLOTLINE_LOG_JSON": os.environ.get("SLOTLINE_LOG_JSON", "false"),
            "SLOTLINE_SEED_DEMO": os.environ.get("SLOTLINE_SEED_DEMO", "true"),
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }
        names = (*SERVICES, WEB)
        ports = {
            name: self.base_port + index if self.base_port else free_port()
            for index, name in enumerate(SERVICES)
        }
        ports[WEB] = self.base_port - 1 if self.base_port else free_port()  # 8100
        for index, name in enumerate(names):
            port = ports[name]
            service = ServiceProcess(name, port, self.supervisor)
            own_env = {**env, **_own_env(name, ports), "SLOTLINE_HTTP_PORT": str(port)}
            self.supervisor.watch(name, self._launch_service(service, own_env, _COLOURS[index]))
            self.services.append(service)
        self._wait_until_ready()
        self._say("stack", self._banner(time.monotonic() - started))

    def tick(self) -> str | None:
        """Restart what died; the reason to stop, once the stack cannot go on."""
        return self.supervisor.tick()

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> int:
        """Send ``sig`` to a service's (or the broker's) process; its pid. For chaos runs:
        the supervisor brings it back."""
        process = self.supervisor.watched[name].process
        assert process is not None, f"{name} is not running"
        os.killpg(process.pid, sig)
        return process.pid

    def _launch_service(
        self, service: ServiceProcess, env: dict[str, str], colour: str
    ) -> Callable[[], subprocess.Popen[bytes]]:
        def launch() -> subprocess.Popen[bytes]:
            process = subprocess.Popen(
                [sys.executable, "-m", f"slotline.{service.name.replace('-', '_')}"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches us; we stop them in order
            )
            threading.Thread(
                target=self._relay_output, args=(service.name, process, colour), daemon=True
            ).start()
            return process

        return launch

    def _launch_broker(self, port: int) -> Callable[[], subprocess.Popen[bytes]]:
        def launch() -> subprocess.Popen[bytes]:
            restarting = self._kafka is not None
            if restarting:  # until its topics exist again (see _broker_restarted)
                self._signal_services(signal.SIGSTOP)
            try:
                self._kafka = EmbeddedKafka(port, log_file=self.data_dir / "logs" / "kafka.log")
                process = self._kafka.start().process
            except BaseException:
                if restarting:
                    self._signal_services(signal.SIGCONT)
                raise
            assert process is not None
            return process

        return launch

    def _broker_restarted(self) -> None:
        """The broker came back empty: its topics again, the restart counted, and every
        service started afresh, so each relay publishes its whole store again before
        anything new, and each consumer reads the new broker from its start.

        The services are held still (SIGSTOP) from the broker's relaunch: a record
        produced to a topic Tansu's memory store does not have yet is kept, and creating
        the topic then starts its offsets again at 0 over it — later batches collide, and
        records already acknowledged become unreadable (seen in chaos runs). They are not
        let go on (SIGCONT) but killed and started again: a running relay would publish
        what it had in flight, or its next batch, before it heard of the restart, so a
        stream's later event (a call's ``CallMissed``) would reach the new broker ahead of
        the re-published earlier one (its ``CallReceived``), and a consumer that had not
        read the earlier one before the broker died would take it for a duplicate (seen
        in a chaos run: an analytics call fact without its ``received_at``). A new
        process finds the restart in :data:`BROKER_EPOCHS` before its first batch. A
        broker that keeps its messages, like Apache Kafka, needs none of this."""
        try:
            asyncio.run(ensure_topics(self.bootstrap))
            note_broker_restart(self.database_url)
            self.broker_restarts += 1
        except BaseException:
            self._signal_services(signal.SIGCONT)
            raise
        for service in self.services:
            self.supervisor.relaunch(service.name)
        self._say("stack", "broker restarted empty: topics made, services started afresh")

    def _signal_services(self, sig: signal.Signals) -> None:
        for service in self.services:
            process = service.process
            if process is not None and process.poll() is None:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, sig)

    def stop(self) -> None:
        self.supervisor.watched.pop("broker", None)  # stopped below, after the services
        for service in self.services:
            if service.process and service.process.poll() is None:
                service.process.send_signal(signal.SIGTERM)
        for service in self.services:
            process = service.process
            if process is None:
                continue
            try:
                process.wait(timeout=25)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if self._kafka:
            self._kafka.stop()
        if self._postgres:
            self._postgres.stop()
        self._say("stack", "stopped: no service, broker or database left running")

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        pending = list(self.services)
        with httpx.Client(timeout=2.0) as client:
            while pending:
                for service in list(pending):
                    assert service.process is not None
                    if service.process.poll() is not None:
                        raise RuntimeError(
                            f"{service.name} exited with {service.process.returncode}"
                        )
                    try:
                        if client.get(f"{service.url}/readyz").status_code == 200:
                            pending.remove(service)
                    except httpx.TransportError:
                        pass
                if time.monotonic() > deadline:
                    names = ", ".join(s.name for s in pending)
                    raise TimeoutError(f"not ready after {self.ready_timeout}s: {names}")
                time.sleep(0.2)

    def _banner(self, seconds: float) -> str:
        settings = AuthSettings()
        token = TokenIssuer(
            settings.secret.get_secret_value(), settings.issuer, settings.audience
        ).mint("local-dev", "demo", ["owner"], timedelta(hours=12))
        lines = [f"all {len(self.services)} services ready in {seconds:.1f}s"]
        web = next((s for s in self.services if s.name == WEB), None)
        if web is not None:
            lines += [
                f"  booking page: {web.url}/demo",
                f"  console:      {web.url}/console  (sign in with the token below)",
            ]
        lines += [
            f"  {s.name:<13} {s.url}  (docs: {s.url}/docs)" for s in self.services if s is not web
        ]
        lines += ["local token (tenant 'demo', role owner, 12 h):", f"  {token}", "Ctrl-C stops."]
        return "\n".join(lines)

    def _relay_output(self, name: str, process: subprocess.Popen[bytes], colour: str) -> None:
        assert process.stdout is not None
        stream: IO[bytes] = process.stdout
        if self.quiet:
            with (self.data_dir / "logs" / f"{name}.log").open("ab") as log:
                for raw in iter(stream.readline, b""):
                    log.write(raw)
            return
        for raw in iter(stream.readline, b""):
            line = raw.decode(errors="replace").rstrip()
            self._say(name, line, colour)

    def _say(self, who: str, text: str, colour: str = "") -> None:
        with self._output_lock:
            for line in text.splitlines():
                sys.stdout.write(f"{colour}{who:>13} |{_RESET if colour else ''} {line}\n")
            sys.stdout.flush()


def _own_env(name: str, ports: dict[str, int]) -> dict[str, str]:
    """Settings one service needs of the others: the web service their URLs; booking
    the web service's URL for manage links (they open the customer's page)."""
    url = {n: f"http://127.0.0.1:{p}" for n, p in ports.items()}
    if name == WEB:
        return {
            "SLOTLINE_WEB_PUBLIC_URL": url[WEB],
            "SLOTLINE_WEB_AVAILABILITY_URL": url["availability"],
            "SLOTLINE_WEB_BOOKING_URL": url["booking"],
            "SLOTLINE_WEB_PAYMENTS_URL": url["payments"],
            "SLOTLINE_WEB_CALL_INTAKE_URL": url["call-intake"],
            "SLOTLINE_WEB_ANALYTICS_URL": url["analytics"],
        }
    if name == "booking":
        return {"SLOTLINE_PUBLIC_BASE_URL": url[WEB]}
    if name == "notifier":  # what the local channels "sent", for a manager's token
        return {"SLOTLINE_OUTBOX_ENABLED": os.environ.get("SLOTLINE_OUTBOX_ENABLED", "true")}
    return {}


def note_broker_restart(database_url: str) -> None:
    """Count a restart of the embedded broker and NOTIFY the relays that are running."""
    table = sql.Identifier("public", BROKER_EPOCHS)
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("UPDATE {} SET epoch = epoch + 1 WHERE holder = 'broker'").format(table)
        )
        connection.execute(sql.SQL("NOTIFY {}").format(sql.Identifier(BROKER_RESTARTED)))


def count_broker_restarts(database_url: str) -> None:
    """The table where broker restarts are counted (see ``relay.BROKER_EPOCHS``)."""
    table = sql.Identifier("public", BROKER_EPOCHS)
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (holder text PRIMARY KEY, epoch bigint NOT NULL)"
            ).format(table)
        )
        connection.execute(
            sql.SQL("INSERT INTO {} VALUES ('broker', 0) ON CONFLICT DO NOTHING").format(table)
        )


def _port_is_free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def run_until_interrupted(stack: LocalStack) -> None:
    """Start ``stack`` and keep it up until SIGINT or SIGTERM."""
    # A plain flag, not a threading.Event: a signal handler calling Event.set() while
    # the main thread holds the Event's lock (inside wait) deadlocks on a second signal.
    stopping: list[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, _frame: stopping.append(signum))
    try:
        stack.start()
        while not stopping:
            time.sleep(0.5)
            if stack.tick() is not None:
                stopping.append(0)
    finally:
        stack.stop()
