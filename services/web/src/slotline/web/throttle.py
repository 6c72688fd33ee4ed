"""Booking submissions per client address (the ``limits`` moving window, in memory per
replica): this service is the edge customers reach, so the limit is kept here."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


class Throttle:
    def __init__(self, limit: str) -> None:
        self.item: RateLimitItem = parse(limit)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def retry_after(self, *identifiers: str) -> int | None:
        """None when this hit is allowed, else the seconds to wait."""
        if self.limiter.hit(self.item, *identifiers):
            return None
        stats = self.limiter.get_window_stats(self.item, *identifiers)
        return max(1, math.ceil(stats.reset_time - time.time()))
