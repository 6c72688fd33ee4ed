"""What each process of the whole stack costs while nothing happens (issue 14: < 2 % of
a core per service).

Starts the stack as benchmarks run it (every service, the web, the embedded broker and
PostgreSQL), lets it settle, then reads each process's CPU time over a quiet window and
prints ``idle_cpu_<process>: N % of a core``. Nothing else should run on the machine.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from support import CpuMeter, bench_stack, say

SETTLE_SECONDS = float(os.environ.get("BENCH_IDLE_SETTLE_SECONDS", "30"))
WINDOW_SECONDS = float(os.environ.get("BENCH_IDLE_WINDOW_SECONDS", "60"))


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="slotline-idle-") as tmp:
        stack = bench_stack(Path(tmp))
        try:
            stack.start()
            pids = {s.name: s.process.pid for s in stack.services if s.process is not None}
            say(
                f"stack ready; settling {SETTLE_SECONDS:.0f}s, then measuring {WINDOW_SECONDS:.0f}s"
            )
            time.sleep(SETTLE_SECONDS)
            meter = CpuMeter(pids)
            meter.start()
            deadline = time.monotonic() + WINDOW_SECONDS
            while time.monotonic() < deadline:
                reason = stack.tick()
                if reason:
                    raise RuntimeError(reason)
                time.sleep(1)
            meter.report_share("idle_cpu", WINDOW_SECONDS)
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
