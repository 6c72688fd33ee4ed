"""The local stack's supervisor: a killed process comes back, the others keep running,
and a crash loop stops the stack instead of restarting forever."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from tenacity import wait_fixed

from slotline.events.local.supervisor import Supervised, Supervisor

pytestmark = pytest.mark.unit


def sleeper() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def crasher() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])


def run_ticks(supervisor: Supervisor, seconds: float) -> str | None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if (reason := supervisor.tick()) is not None:
            return reason
        time.sleep(0.02)
    return None


def pid_of(supervised: Supervised) -> int:
    """The process id of a started one."""
    assert supervised.process is not None, f"{supervised.name} was never started"
    return supervised.process.pid


def test_a_killed_process_is_restarted_and_its_neighbour_is_untouched() -> None:
    said: list[str] = []
    restarted: list[str] = []
    supervisor = Supervisor(said.append, wait=wait_fixed(0.05))
    victim = supervisor.watch("availability", sleeper, lambda: restarted.append("availability"))
    neighbour = supervisor.watch("booking", sleeper)
    first_pid, neighbour_pid = pid_of(victim), pid_of(neighbour)
    try:
        os.kill(first_pid, signal.SIGKILL)
        assert run_ticks(supervisor, 1.0) is None
        assert victim.alive
        assert pid_of(victim) != first_pid
        assert pid_of(neighbour) == neighbour_pid
        assert restarted == ["availability"]
        assert any("availability exited unexpectedly (exit -9)" in line for line in said)
    finally:
        for supervised in supervisor.watched.values():
            if supervised.alive and supervised.process is not None:
                supervised.process.kill()


def test_a_crash_loop_stops_the_stack_with_the_reason() -> None:
    said: list[str] = []
    supervisor = Supervisor(
        said.append, wait=wait_fixed(0.01), crash_loop_restarts=3, crash_loop_seconds=30
    )
    supervisor.watch("payments", crasher)
    reason = run_ticks(supervisor, 10.0)
    assert reason is not None
    assert "payments keeps crashing (3 restarts" in reason
    assert "last exit 3" in reason


def test_a_relaunch_kills_even_a_stopped_process_and_is_no_crash() -> None:
    """After the broker's restart the stack starts every (stopped) service afresh."""
    said: list[str] = []
    supervisor = Supervisor(said.append, wait=wait_fixed(0.05), crash_loop_restarts=1)
    spawned = supervisor.watch(
        "booking",
        lambda: subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True
        ),
    )
    try:
        first = spawned.process
        assert first is not None
        os.killpg(first.pid, signal.SIGSTOP)
        for _ in range(3):
            supervisor.relaunch("booking")
        assert first.poll() == -signal.SIGKILL
        assert spawned.alive
        assert pid_of(spawned) != first.pid
        assert run_ticks(supervisor, 0.3) is None  # three relaunches: no crash loop
        assert spawned.total_restarts == 0
    finally:
        if spawned.alive and spawned.process is not None:
            spawned.process.kill()
