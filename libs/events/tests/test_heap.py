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


SURVIVORS = """
import gc, weakref
from slotline.events.heap import SurvivorFreezer

class Node:
    pass

now = [0.0]
freezer = SurvivorFreezer(thaw_seconds=60, clock=lambda: now[0])
freezer.install()
gc.collect()
kept = Node()  # alive across a full pass: frozen as it ends
gc.collect()
print(gc.get_freeze_count() > 0, kept in gc.get_objects(), len(gc.get_objects()))

a, b = Node(), Node()  # a cycle, alive when the next pass ends, then dropped
a.other, b.other = b, a
gone = weakref.ref(a)
gc.collect()
del a, b
gc.collect()
print(gone() is not None)  # frozen: a full pass no longer walks it

now[0] = 61.0  # the thaw is due: the next full pass walks everything first
gc.collect()
print(gone() is None, freezer.thaws, gc.get_freeze_count() > 0)
"""


def test_a_full_passs_survivors_are_frozen_and_a_due_thaw_collects_their_cycles() -> None:
    run = subprocess.run(
        [sys.executable, "-c", SURVIVORS], capture_output=True, text=True, check=True, timeout=60
    )
    survived, thawed = run.stdout.splitlines()[0].split(), run.stdout.splitlines()[2].split()
    frozen, kept_walked, walked = survived
    assert frozen == "True"
    assert kept_walked == "False"  # what survived a full pass is out of the collector's sight
    assert int(walked) < 1_000
    assert run.stdout.splitlines()[1] == "True"  # a dropped cycle among them stays, until...
    assert thawed == ["True", "1", "True"]  # ...the thaw collects it, and freezing goes on
