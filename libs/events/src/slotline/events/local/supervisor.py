"""Keeping the local stack's processes up, as an orchestrator keeps pods up.

A process that exits while it is meant to run is restarted after a backoff that grows
with its recent restarts (tenacity's exponential wait), and the restart is logged
loudly; the other processes keep running. A process that keeps crashing — more than
``crash_loop_restarts`` restarts within ``crash_loop_seconds`` — is a crash loop: the
supervisor gives up and says so, and the stack stops (nothing would come right by
itself). :meth:`Supervisor.tick` does the work; the stack's main loop calls it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from tenacity import RetryCallState, Retrying, wait_exponential
from tenacity.wait import wait_base

Launch = Callable[[], subprocess.Popen[bytes]]
"""Starts the process (again) and returns it."""

Say = Callable[[str], None]


@dataclass
class Supervised:
    """One process the supervisor keeps up."""

    name: str
    launch: Launch
    after_restart: Callable[[], None] | None = None
    process: subprocess.Popen[bytes] | None = None
    restarts: deque[float] = field(default_factory=deque)
    restart_at: float | None = None
    total_restarts: int = 0

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class Supervisor:
    say: Say
    wait: wait_base = field(default_factory=lambda: wait_exponential(multiplier=0.5, max=15))
    crash_loop_restarts: int = 5
    crash_loop_seconds: float = 60.0
    watched: dict[str, Supervised] = field(default_factory=dict)
    gave_up: str | None = None

    def watch(
        self, name: str, launch: Launch, after_restart: Callable[[], None] | None = None
    ) -> Supervised:
        """Start ``name`` now and keep it up from here on."""
        supervised = Supervised(name, launch, after_restart)
        supervised.process = launch()
        self.watched[name] = supervised
        return supervised

    def tick(self) -> str | None:
        """Restart what is due; the reason to stop the stack, once there is one."""
        now = time.monotonic()
        for supervised in self.watched.values():
            if self.gave_up is not None:
                break
            if supervised.alive:
                continue
            if supervised.restart_at is None:
                self._schedule(supervised, now)
            elif now >= supervised.restart_at:
                self._restart(supervised)
        return self.gave_up

    def relaunch(self, name: str) -> None:
        """Kill ``name`` (its whole process group) and start it again at once: a restart
        the stack decides on, so it is not counted as a crash."""
        supervised = self.watched[name]
        process = supervised.process
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)  # a stopped process dies too
            except ProcessLookupError:  # not the leader of its own group
                process.kill()
            process.wait()
        supervised.restart_at = None
        supervised.process = supervised.launch()
        self.say(f"{name} started again (pid {supervised.process.pid})")

    def _schedule(self, supervised: Supervised, now: float) -> None:
        recent = supervised.restarts
        while recent and now - recent[0] > self.crash_loop_seconds:
            recent.popleft()
        code = supervised.process.returncode if supervised.process else None
        if len(recent) >= self.crash_loop_restarts:
            self.gave_up = (
                f"{supervised.name} keeps crashing ({len(recent)} restarts in "
                f"{self.crash_loop_seconds:.0f}s, last exit {code}): stopping the stack"
            )
            self.say(f"!!! {self.gave_up}")
            return
        state = RetryCallState(Retrying(), None, (), {})
        state.attempt_number = len(recent) + 1
        delay = float(self.wait(state))
        supervised.restart_at = now + delay
        self.say(
            f"!!! {supervised.name} exited unexpectedly (exit {code}); "
            f"restarting in {delay:.1f}s (restart {supervised.total_restarts + 1})"
        )

    def _restart(self, supervised: Supervised) -> None:
        supervised.restart_at = None
        supervised.restarts.append(time.monotonic())
        supervised.total_restarts += 1
        try:
            supervised.process = supervised.launch()
        except Exception as error:  # counted as a crash: the next tick reschedules it
            self.say(f"!!! {supervised.name} could not be started: {error!r}")
            supervised.process = None
            return
        self.say(f"{supervised.name} restarted (pid {supervised.process.pid})")
        if supervised.after_restart is not None:
            supervised.after_restart()
