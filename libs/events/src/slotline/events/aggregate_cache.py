"""An aggregate cache in two parts: what is read again within seconds, and what for minutes.

eventsourcing's repository keeps one LRU of aggregates. A service whose aggregates
differ in how long they stay useful fills it with the short-lived kind: availability
places a hold (read again within its saga, seconds later) for every booking, while the
resource days each hold reads are read again for as long as they are bookable. One LRU
large enough for the days keeps thousands of finished holds too, and every cached
object is one the garbage collector walks on each full pass (``docs/performance.md``).
Here each kind has its own LRU: the long-lived kinds named by the service, the rest in a
small one.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from eventsourcing.application import LRUCache


class TwoPartCache(LRUCache[Any, Any]):
    """``long_lived`` aggregates in an LRU of ``long_maxsize``; any other in ``maxsize``.

    It is an ``LRUCache`` (the repository and :class:`~slotline.events.store.
    ServiceApplication` use its ``get``, ``put`` and ``cache``); the parent's own
    entries stay empty.
    """

    def __init__(self, maxsize: int, long_maxsize: int, long_lived: tuple[type, ...]) -> None:
        super().__init__(maxsize=maxsize)
        self.short: LRUCache[Any, Any] = LRUCache(maxsize=maxsize)
        self.long: LRUCache[Any, Any] = LRUCache(maxsize=long_maxsize)
        self.long_lived = long_lived

    def get(self, key: Any, *, evict: bool = False) -> Any:
        try:
            return self.short.get(key, evict=evict)
        except KeyError:
            return self.long.get(key, evict=evict)

    def put(self, key: Any, value: Any) -> Any:
        """Cache ``value`` in the part its kind belongs to, and out of the other (an id
        is one aggregate, so it moves only if a value of another kind came under it)."""
        part, other = (
            (self.long, self.short)
            if isinstance(value, self.long_lived)
            else (self.short, self.long)
        )
        with suppress(KeyError):
            other.get(key, evict=True)
        return part.put(key, value)

    @property
    def cache(self) -> dict[Any, Any]:
        """Both parts' entries (the parent's own dict is unused)."""
        return {**self.long.cache, **self.short.cache}

    @cache.setter
    def cache(self, value: dict[Any, Any]) -> None:
        """The parent's ``__init__`` sets an empty dict; the parts hold the entries."""
