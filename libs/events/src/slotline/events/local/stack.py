"""``make run``: the whole system on one machine, on embedded infrastructure.

Starts PostgreSQL (data kept in ``.data/postgres``) and the Kafka-protocol broker
unless ``SLOTLINE_DATABASE_URL`` / ``SLOTLINE_KAFKA_BOOTSTRAP`` point elsewhere,
creates the topics, starts each service as its own process, waits for every
``/readyz``, prints the URLs and a local token, and on Ctrl-C stops everything.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO

import httpx

from slotline.events.auth import AuthSettings, TokenIssuer
from slotline.events.kafka import ensure_topics
from slotline.events.local.infra import EmbeddedKafka, EmbeddedPostgres, free_port

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
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class LocalStack:
    """Infrastructure plus one process per service; :meth:`stop` leaves nothing behind."""

    data_dir: Path
    base_port: int = 8101
    ready_timeout: float = 60.0
    services: list[ServiceProcess] = field(default_factory=list)
    _postgres: EmbeddedPostgres | None = None
    _kafka: EmbeddedKafka | None = None
    _output_lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        started = time.monotonic()
        (self.data_dir / "logs").mkdir(parents=True, exist_ok=True)
        database_url = os.environ.get("SLOTLINE_DATABASE_URL")
        if not database_url:
            self._postgres = EmbeddedPostgres(self.data_dir / "postgres").start()
            database_url = self._postgres.create_database("slotline")
        bootstrap = os.environ.get("SLOTLINE_KAFKA_BOOTSTRAP")
        if not bootstrap:
            port = 9092 if _port_is_free(9092) else free_port()
            self._kafka = EmbeddedKafka(port, log_file=self.data_dir / "logs" / "kafka.log")
            bootstrap = self._kafka.start().bootstrap
        asyncio.run(ensure_topics(bootstrap))
        self._say("stack", f"postgres {database_url}\nkafka    {bootstrap}")
        env = {
            **os.environ,
            "SLOTLINE_DATABASE_URL": database_url,
            "SLOTLINE_KAFKA_BOOTSTRAP": bootstrap,
            "SLOTLINE_LOG_JSON": os.environ.get("SLOTLINE_LOG_JSON", "false"),
            "SLOTLINE_SEED_DEMO": os.environ.get("SLOTLINE_SEED_DEMO", "true"),
            "PYTHONUNBUFFERED": "1",
        }
        names = (*SERVICES, WEB)
        ports = {
            name: self.base_port + index if self.base_port else free_port()
            for index, name in enumerate(SERVICES)
        }
        ports[WEB] = self.base_port - 1 if self.base_port else free_port()  # 8100
        for index, name in enumerate(names):
            port = ports[name]
            service = ServiceProcess(name, port)
            service.process = subprocess.Popen(
                [sys.executable, "-m", f"slotline.{name.replace('-', '_')}"],
                env={**env, **_own_env(name, ports), "SLOTLINE_HTTP_PORT": str(port)},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches us; we stop them in order
            )
            self.services.append(service)
            threading.Thread(
                target=self._relay_output, args=(service, _COLOURS[index]), daemon=True
            ).start()
        self._wait_until_ready()
        self._say("stack", self._banner(time.monotonic() - started))

    def stop(self) -> None:
        for service in self.services:
            if service.process and service.process.poll() is None:
                service.process.send_signal(signal.SIGTERM)
        for service in self.services:
            if service.process is None:
                continue
            try:
                service.process.wait(timeout=25)
            except subprocess.TimeoutExpired:
                os.killpg(service.process.pid, signal.SIGKILL)
                service.process.wait()
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

    def _relay_output(self, service: ServiceProcess, colour: str) -> None:
        assert service.process is not None
        assert service.process.stdout is not None
        stream: IO[bytes] = service.process.stdout
        for raw in iter(stream.readline, b""):
            line = raw.decode(errors="replace").rstrip()
            self._say(service.name, line, colour)

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
    return {}


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
            for service in stack.services:
                if service.process and service.process.poll() is not None:
                    stack._say("stack", f"{service.name} exited ({service.process.returncode})")
                    stopping.append(0)
    finally:
        stack.stop()
