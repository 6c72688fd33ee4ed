"""A service process freezes what start-up made, so a full collection walks only what
came later; its pauses are on ``/metrics``."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest
from prometheus_client import CollectorRegistry

from slotline.events.heap import CollectorPauses

pytestmark = pytest.mark.unit

FREEZING = """
import gc
from slotline.events import runtime  # a service's imports: the bulk of start-up's objects
from slotline.events.heap import settle_after_start

frozen = settle_after_start()
print(frozen, len(gc.get_objects()), gc.get_freeze_count() == frozen)
"""


def test_start_ups_objects_leave_the_collectors_sight() -> None:
    # in a process of its own: freezing the test process would keep the tests' garbage
    run = subprocess.run(
        [sys.executable, "-c", FREEZING], capture_output=True, text=True, check=True, timeout=60
    )
    frozen, tracked, consistent = run.stdout.split()
    assert int(frozen) > 50_000  # modules, classes, pydantic's validators
    assert int(tracked) < int(frozen) // 10  # what a full collection still walks
    assert consistent == "True"


def test_each_collection_is_measured_by_generation_until_uninstalled() -> None:
    registry = CollectorRegistry()
    pauses = CollectorPauses(registry)
    pauses.install()
    try:
        gc.collect()
    finally:
        pauses.uninstall()
    full = registry.get_sample_value("slotline_gc_pause_seconds_count", {"generation": "2"})
    assert full is not None
    assert full >= 1
    assert registry.get_sample_value("slotline_gc_frozen_objects") == gc.get_freeze_count()
    gc.collect()  # no longer observed
    assert registry.get_sample_value("slotline_gc_pause_seconds_count", {"generation": "2"}) == full
    assert pauses._observe not in gc.callbacks
