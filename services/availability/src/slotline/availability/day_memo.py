"""Day views worked out once per state of the calendars, so refusals in a rush share them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta

from cachetools import LRUCache

from slotline.availability.domain.slots import SlotView


class DayViewMemo:
    """A day's slots keyed by everything they depend on — the service's terms, the
    resources, the version of every calendar read — and reused only for an instant
    within ``fresh_for`` of the one they were computed for (holds lapse and the notice
    window moves with time, not with versions).

    Why: a refused hold offers the nearest free slots, which means working out whole
    days. 200 customers refused for the same three slots worked out the same day 200
    times (py-spy: 62 % of the api process during the burst). Only the offers of a
    refusal use it: a hold itself is always decided on the calendars as they are.
    """

    def __init__(self, maxsize: int = 256, fresh_for: timedelta = timedelta(seconds=1)) -> None:
        self.fresh_for = fresh_for
        self.hits = 0
        self._views: LRUCache[Hashable, tuple[datetime, tuple[SlotView, ...]]] = LRUCache(maxsize)
        self._lock = threading.Lock()

    def day(
        self, key: Hashable, now: datetime, compute: Callable[[], list[SlotView]]
    ) -> list[SlotView]:
        with self._lock:
            found = self._views.get(key)
        if found is not None and timedelta(0) <= now - found[0] <= self.fresh_for:
            self.hits += 1
            return list(found[1])
        views = compute()
        with self._lock:
            self._views[key] = (now, tuple(views))
        return views
