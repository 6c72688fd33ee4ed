"""What every benchmark needs: output in the ``name: value unit`` form, percentiles,
and services run as their own processes on the embedded (or given) infrastructure."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import psutil
from aiokafka import AIOKafkaConsumer, TopicPartition

from slotline.events.kafka import ensure_topics
from slotline.events.local.infra import EmbeddedKafka, EmbeddedPostgres, free_port
from slotline.events.local.stack import LocalStack

_STARTED = time.monotonic()


def say(message: str) -> None:
    """A progress line, with the seconds since the benchmark started: where a run
    spends its time shows in the log."""
    print(f"[bench +{time.monotonic() - _STARTED:.1f}s] {message}", file=sys.stderr, flush=True)


_printed: set[str] = set()


def figure(name: str, value: str) -> None:
    if not _printed:
        atexit.register(_machine_context)
    _printed.add(name)
    print(f"{name}: {value}", flush=True)


def _machine_context() -> None:
    """Every benchmark ends with the load it ran under: figures from a busy machine
    are not comparable (there are only a few cores)."""
    if "load_average_1m" not in _printed:
        print(f"load_average_1m: {os.getloadavg()[0]:.2f}", flush=True)
    print(f"machine_cores: {os.cpu_count()} cores", flush=True)


class CpuMeter:
    """CPU time spent by each part of the system between two readings (services with
    their children, PostgreSQL, the broker, the benchmark itself): where the work goes
    when the machine is saturated, in CPU milliseconds per unit of work."""

    def __init__(self, services: dict[str, int]) -> None:
        self.services = services
        self._start: dict[str, float] = {}

    def _groups(self) -> dict[str, list[psutil.Process]]:
        groups: dict[str, list[psutil.Process]] = {"bench": [psutil.Process()]}
        for name, pid in self.services.items():
            with contextlib.suppress(psutil.Error):
                process = psutil.Process(pid)
                groups[name] = [process, *process.children(recursive=True)]
        for process in psutil.process_iter(["name", "cmdline"]):
            label = " ".join(process.info["cmdline"] or [process.info["name"] or ""])
            if process.info["name"] == "postgres":
                groups.setdefault("postgres", []).append(process)
            elif "tansu" in label.split(" ")[0]:
                groups.setdefault("broker", []).append(process)
        return groups

    def _read(self) -> dict[str, float]:
        seconds: dict[str, float] = {}
        for name, processes in self._groups().items():
            for process in processes:
                with contextlib.suppress(psutil.Error):
                    times = process.cpu_times()
                    seconds[name] = seconds.get(name, 0.0) + times.user + times.system
        return seconds

    def start(self) -> None:
        self._start = self._read()

    def report(self, prefix: str, units: int, unit: str) -> None:
        """``<prefix>_<part>: N ms`` of CPU per ``unit`` since :meth:`start`."""
        end = self._read()
        for name in sorted(end):
            spent = end[name] - self._start.get(name, 0.0)
            figure(f"{prefix}_{name.replace('-', '_')}", f"{spent * 1000 / units:.1f} ms/{unit}")

    def report_share(self, prefix: str, seconds: float) -> None:
        """``<prefix>_<part>: N % of a core`` since :meth:`start`, over ``seconds``."""
        end = self._read()
        for name in sorted(end):
            spent = end[name] - self._start.get(name, 0.0)
            figure(f"{prefix}_{name.replace('-', '_')}", f"{100 * spent / seconds:.2f} % of a core")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * q + 0.999999) - 1)]


@contextlib.asynccontextmanager
async def infrastructure(name: str) -> AsyncIterator[tuple[str, str, Path]]:
    """PostgreSQL and a broker (embedded unless ``SLOTLINE_DATABASE_URL`` /
    ``SLOTLINE_KAFKA_BOOTSTRAP`` are set), topics made, and a scratch directory."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as scratch:
        tmp = Path(scratch)
        postgres = kafka = None
        try:
            database_url = os.environ.get("SLOTLINE_DATABASE_URL")
            if not database_url:
                postgres = EmbeddedPostgres(tmp / "pg").start()
                database_url = postgres.create_database(f"bench_{name}")
            bootstrap = os.environ.get("SLOTLINE_KAFKA_BOOTSTRAP")
            if not bootstrap:
                kafka = EmbeddedKafka().start()
                bootstrap = kafka.bootstrap
            await ensure_topics(bootstrap)
            yield database_url, bootstrap, tmp
        finally:
            if kafka is not None:
                kafka.stop()
            if postgres is not None:
                postgres.stop()


@dataclass
class ServiceProcess:
    module: str
    database_url: str
    bootstrap: str
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def launch(self) -> None:
        env = {
            **os.environ,
            "SLOTLINE_DATABASE_URL": self.database_url,
            "SLOTLINE_KAFKA_BOOTSTRAP": self.bootstrap,
            "SLOTLINE_HTTP_PORT": str(self.port),
            "SLOTLINE_LOG_LEVEL": os.environ.get("SLOTLINE_LOG_LEVEL", "WARNING"),
            "PYTHONUNBUFFERED": "1",
            **self.env,
        }
        self._log = open(self.log_path, "wb")  # noqa: SIM115 — closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    async def wait_ready(self, timeout: float = 90.0) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.base_url, timeout=5) as client:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.module} exited: {self.process.returncode}")
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get("/readyz")).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the service is not ready after {timeout}s")
                await asyncio.sleep(0.2)

    def check_alive(self) -> None:
        if self.process is None or self.process.poll() is not None:
            raise RuntimeError("the service process died; see its log above")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def log_summary(self) -> list[str]:
        """Distinct messages the service logged (it logs warnings and up), with counts."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return []
        seen: Counter[str] = Counter()
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                key = f"{record.get('level')}: {record.get('event')}"
                if record.get("error"):
                    key += f" ({str(record['error'])[:200]})"
            except (ValueError, AttributeError):
                key = line
            # Scheduler messages carry their next run time; count them as one.
            seen[key.split(" (trigger:")[0][:300]] += 1
        return [f"{n} × {message}" for message, n in seen.most_common()]


def availability_processes(
    database_url: str, bootstrap: str, tmp: Path, env: dict[str, str] | None = None
) -> list[ServiceProcess]:
    """Availability as operators run it: an ``api`` process and a ``projector`` process
    (``BENCH_AVAILABILITY_SPLIT=0``: one process doing both, to compare)."""
    if os.environ.get("BENCH_AVAILABILITY_SPLIT", "1") == "0":
        roles = ["all"]
    else:
        roles = ["api", "projector"]
    say(f"availability processes: {', '.join(roles)}")
    return [
        ServiceProcess(
            "slotline.availability",
            database_url,
            bootstrap,
            tmp / f"availability-{role}.log",
            env={**(env or {}), "SLOTLINE_AVAILABILITY_ROLE": role},
        )
        for role in roles
    ]


LIMITS_OUT_OF_THE_WAY = {
    "SLOTLINE_PUBLIC_RATE_LIMIT": "1000000/minute",
    "SLOTLINE_MANAGE_RATE_LIMIT": "1000000/minute",
    "SLOTLINE_WEBHOOK_RATE_LIMIT": "1000000/minute",
    "SLOTLINE_TEXT_BACK_LIMIT_PER_NUMBER": "1000000/hour",
    "SLOTLINE_TEXT_BACK_LIMIT_PER_TENANT": "1000000/hour",
    "SLOTLINE_TEXT_LIMIT_PER_NUMBER": "1000000/hour",
    "SLOTLINE_TEXT_LIMIT_PER_TENANT": "1000000/hour",
}
"""Rate limits and the SMS-pumping guard out of the way: one machine plays every client."""


def bench_stack(
    path: Path, ready_timeout: float = 120, env: dict[str, str] | None = None
) -> LocalStack:
    """The whole local stack as benchmarks run it: free ports, no demo clinic, output to
    log files, the public rate limit out of the way (one machine plays every customer)."""
    return LocalStack(
        path,
        base_port=0,
        ready_timeout=ready_timeout,
        quiet=True,
        extra_env={
            "SLOTLINE_SEED_DEMO": "false",
            **LIMITS_OUT_OF_THE_WAY,
            "SLOTLINE_LOG_LEVEL": "WARNING",
            **(env or {}),
        },
    )


class TopicCounts:
    """How many records each of ``topics`` gained between ``start`` and ``report``: the
    Kafka messages one booking costs, all services together."""

    def __init__(self, bootstrap: str, topics: tuple[str, ...]) -> None:
        self.bootstrap = bootstrap
        self.topics = topics
        self.before: dict[str, int] = {}

    async def _ends(self) -> dict[str, int]:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None)
        await consumer.start()
        try:
            await consumer.topics()  # the cluster's metadata, with every partition
            ends: dict[str, int] = {}
            for topic in self.topics:
                partitions = consumer.partitions_for_topic(topic) or set()
                offsets = await consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
                ends[topic] = sum(offsets.values())
            return ends
        finally:
            await consumer.stop()

    async def start(self) -> None:
        self.before = await self._ends()

    async def report(self, prefix: str, bookings: int) -> None:
        after = await self._ends()
        for topic in self.topics:
            count = (after[topic] - self.before.get(topic, 0)) / bookings
            figure(f"{prefix}_{topic.replace('.', '_')}", f"{count:.2f} messages/booking")
