"""The two shapes every KPI takes: a share of something, or a spread of durations."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Ratio:
    """``count`` of ``total``; ``rate`` is ``None`` when there is nothing to divide by."""

    count: int
    total: int
    rate: float | None

    @classmethod
    def of(cls, count: int, total: int) -> Ratio:
        return cls(count, total, round(count / total, 4) if total else None)


@dataclass(frozen=True)
class Durations:
    """How long something took, in seconds, over ``samples`` cases."""

    samples: int
    median_seconds: float | None
    p90_seconds: float | None

    @classmethod
    def of(cls, seconds: Iterable[float]) -> Durations:
        ordered = sorted(seconds)
        if not ordered:
            return cls(0, None, None)
        p90 = ordered[math.ceil(0.9 * len(ordered)) - 1]  # nearest rank
        return cls(len(ordered), round(statistics.median(ordered), 1), round(p90, 1))
