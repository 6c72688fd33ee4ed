"""Python's cyclic garbage collector, set for a long-running service process.

A full collection walks every object the collector tracks. After start-up a service
holds 150,000–230,000 of them (modules, classes, pydantic's validators, its wiring), and
under load a full pass came every ~3 s and took 100–270 ms (bench-booking at 50
bookings/s, 2026-12-06): every message and request in flight waited for it, which is a
saga's p99. What start-up made lives as long as the process, so once the service is up
it is collected once and then moved out of the collector's sight (:func:`gc.freeze`);
what is made later is collected as before, and a full pass walks only that.

Later, the caches (aggregates, catalogues) fill, and a full pass walked them again each
time: in a five-minute run at 40 bookings/s, availability's processes still paused
~180 ms per full pass, two to four times a minute. So each full pass's survivors are
frozen as it ends (:class:`SurvivorFreezer`), and the next one walks only what was made
since. Garbage among frozen objects that only a cycle keeps alive would stay, so every
``thaw_seconds`` one full pass first thaws everything and walks it all.

Only a service's own process does this (``serve``): a test runs services inside the
test process, whose objects are not the service's to freeze.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from prometheus_client import CollectorRegistry, Gauge, Histogram

_PAUSE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5)


def settle_after_start() -> int:
    """Collect what start-up left behind, then freeze the rest; how many objects that is."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


class SurvivorFreezer:
    """Freezes what each full collection leaves alive, so the next full pass walks only
    what was made since; every ``thaw_seconds`` a full pass first thaws everything (its
    pause is as long as one without freezing), so cyclic garbage is never kept for good."""

    def __init__(
        self, thaw_seconds: float = 900.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.thaw_seconds = thaw_seconds
        self.clock = clock
        self.thaws = 0
        self._thaw_at = clock() + thaw_seconds

    def install(self) -> None:
        gc.callbacks.append(self._on_collection)

    def uninstall(self) -> None:
        with suppress(ValueError):
            gc.callbacks.remove(self._on_collection)

    def _on_collection(self, phase: str, info: dict[str, Any]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start" and self.clock() >= self._thaw_at:
            gc.unfreeze()  # before the pass gathers its generations: it walks them all
            self.thaws += 1
            self._thaw_at = self.clock() + self.thaw_seconds
        elif phase == "stop":
            gc.freeze()


class CollectorPauses:
    """The collector's pauses by generation (``slotline_gc_pause_seconds``) and how many
    objects are out of its sight (``slotline_gc_frozen_objects``), on ``/metrics``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.pauses = Histogram(
            "slotline_gc_pause_seconds",
            "Cyclic garbage collections, by generation (2: a full pass), and how long each "
            "held the process",
            ["generation"],
            buckets=_PAUSE_BUCKETS,
            registry=registry,
        )
        frozen = Gauge(
            "slotline_gc_frozen_objects",
            "Objects made at start-up and moved out of the collector's sight",
            registry=registry,
        )
        frozen.set_function(gc.get_freeze_count)
        self._started = 0.0

    def install(self) -> None:
        gc.callbacks.append(self._observe)

    def uninstall(self) -> None:
        with suppress(ValueError):
            gc.callbacks.remove(self._observe)

    def _observe(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            elapsed = time.perf_counter() - self._started
            self.pauses.labels(str(info["generation"])).observe(elapsed)
