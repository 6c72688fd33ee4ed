"""Where an inbox batch's time goes: wall time per phase, and the CPU time of the thread
that applied it.

A profiler sees CPU. Under load, most of a batch's life is spent waiting: for
PostgreSQL's answers, and for the GIL after each of them while other threads of the
process run. The gap between a batch's wall time and its thread's CPU time is that
wait; the phases say where it falls (bench-booking at 50 requests/s, 2026-12-06: 18 ms
a batch in booking, 5 ms of it CPU). Exported per service as counters, so a rate of each
over the rate of batches is the mean per batch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

PHASES = ("handoff", "decode", "read", "handlers", "commit", "alone", "handback", "dead_letters")
"""In order: waiting for a worker thread; decoding; the unit of work's opening reads
(positions, prefetched aggregates); the handlers; writing and committing; the messages
set aside, applied one by one; back on the event loop; dead letters sent."""


@dataclass
class BatchClock:
    """Laps of one batch: each :meth:`lap` charges the time since the last to a phase."""

    walls: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))
    cpu: float = 0.0
    began: float = field(default_factory=time.perf_counter)
    _cpu_mark: float = 0.0

    def __post_init__(self) -> None:
        self._mark = self.began

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.walls[phase] += now - self._mark
        self._mark = now

    def on_thread(self) -> None:
        """The batch reached the thread that applies it: its CPU is counted from here."""
        self.lap("handoff")
        self._cpu_mark = time.thread_time()

    def off_thread(self) -> None:
        """The applying thread is done with the batch."""
        self.cpu += time.thread_time() - self._cpu_mark
