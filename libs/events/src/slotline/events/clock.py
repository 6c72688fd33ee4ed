"""The one wall clock: every service takes a ``Clock`` so tests can pass their own."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """Now, timezone-aware in UTC (never a naive datetime)."""
    return datetime.now(UTC)
