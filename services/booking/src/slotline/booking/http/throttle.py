"""Rate limiting of the public booking endpoint per client address (the ``limits``
library's moving window, in memory per replica: a limit per pod, which is what a
public form needs against a script hammering it)."""

from __future__ import annotations

import math
import time

from fastapi import HTTPException, Request, status
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from slotline.booking.http.deps import settings


class Throttle:
    def __init__(self, limit: str) -> None:
        self.item: RateLimitItem = parse(limit)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def check(self, *identifiers: str) -> None:
        if self.limiter.hit(self.item, *identifiers):
            return
        stats = self.limiter.get_window_stats(self.item, *identifiers)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=f"too many booking requests from this address; retry in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )


def throttle_public(request: Request) -> None:
    """FastAPI dependency: counts this request against its client's limit."""
    throttle: Throttle | None = getattr(request.app.state, "booking_throttle", None)
    if throttle is None:
        throttle = request.app.state.booking_throttle = Throttle(
            settings(request).public_rate_limit
        )
    client = request.client.host if request.client else "unknown"
    throttle.check(client, request.path_params.get("tenant_id", ""))
