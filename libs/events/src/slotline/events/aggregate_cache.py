"""Aggregates kept in two parts: what is read again within seconds, and what for minutes.

eventsourcing's repository keeps one LRU of aggregates. A service whose aggregates
differ in how long they stay useful fills it with the short-lived kind: availability
places a hold (read again within its saga, seconds later) for every booking, while the
resource days each hold reads are read again for as long as they are bookable. One LRU
large enough for the days keeps thousands of finished holds too, and every cached
object is one the garbage collector walks on each full pass (``docs/performance.md``).
Here each kind has its own LRU: the long-lived kinds named by the service, the rest in a
small one. The repository's cache (:class:`TwoPartCache`) and the slot projection's
world (``slotline.availability.live.state``) both keep their aggregates in a
:class:`LRUPair`.

A cached aggregate is read only as a copy (:class:`CopyingRepository`): a unit of work
takes an aggregate *out* of the cache and changes that instance, so nothing else may
change a cached instance in place.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from copy import deepcopy
from threading import Lock
from typing import Any, Generic, TypeVar

from eventsourcing.application import (
    AggregateNotFoundError,
    Cache,
    Repository,
    project_aggregate,
)

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")


class LRUPair(Generic[Key, Value]):
    """Two least-recently-used maps: a value ``is_long`` goes to the long part (up to
    ``long_maxsize``), any other to the short one (up to ``short_maxsize``). A key is in
    one part at most: a value of the other kind under it moves it. Not thread-safe."""

    def __init__(
        self, long_maxsize: int, short_maxsize: int, is_long: Callable[[Value], bool]
    ) -> None:
        self.long: OrderedDict[Key, Value] = OrderedDict()
        self.short: OrderedDict[Key, Value] = OrderedDict()
        self.long_maxsize = long_maxsize
        self.short_maxsize = short_maxsize
        self._is_long = is_long

    def __contains__(self, key: Key) -> bool:
        return key in self.short or key in self.long

    def find(self, key: Key) -> Value | None:
        """The value kept under ``key`` (now the most recent of its part), or ``None``."""
        for part in (self.short, self.long):
            if key in part:
                part.move_to_end(key)
                return part[key]
        return None

    def keep(self, key: Key, value: Value) -> None:
        """Keep ``value`` as the most recent of its kind's part; the least recent beyond
        the part's size are let go."""
        long = self._is_long(value)
        part, other = (self.long, self.short) if long else (self.short, self.long)
        most = self.long_maxsize if long else self.short_maxsize
        other.pop(key, None)
        part[key] = value
        part.move_to_end(key)
        while len(part) > most:
            part.popitem(last=False)

    def drop(self, key: Key) -> Value | None:
        """Let go of ``key``; its value, or ``None`` if nothing was kept under it."""
        found = self.short.pop(key, None)
        return found if found is not None else self.long.pop(key, None)

    def clear(self) -> None:
        self.short.clear()
        self.long.clear()


class TwoPartCache(Cache[Any, Any]):
    """The repository's cache with ``long_lived`` aggregates in an LRU of
    ``long_maxsize`` and any other in one of ``maxsize``.

    eventsourcing's :class:`~eventsourcing.application.Cache` is the interface its
    repository calls (``get``, ``put``); the entries are in :attr:`parts`, not in the
    base's dict. Repository reads come from many threads, hence the lock.
    """

    def __init__(self, maxsize: int, long_maxsize: int, long_lived: tuple[type, ...]) -> None:
        super().__init__()
        self.parts: LRUPair[Any, Any] = LRUPair(
            long_maxsize, maxsize, lambda value: isinstance(value, long_lived)
        )
        self._lock = Lock()

    def get(self, key: Any, *, evict: bool = False) -> Any:
        with self._lock:
            found = self.parts.drop(key) if evict else self.parts.find(key)
        if found is None:
            raise KeyError(key)
        return found

    def put(self, key: Any, value: Any) -> None:
        if value is None:  # as eventsourcing's caches: nothing is kept for None
            return
        with self._lock:
            self.parts.keep(key, value)

    def copy(self, key: Any) -> Any:
        """A deep copy of the aggregate kept under ``key`` (``KeyError`` if none), made
        under the lock: a unit of work taking it meanwhile (``get(evict=True)``) changes
        it only once it is out, so a copy never holds half a change."""
        with self._lock:
            found = self.parts.find(key)
            if found is None:
                raise KeyError(key)
            return deepcopy(found)


class CopyingRepository(Repository[Any]):
    """eventsourcing's repository, except that a read never changes a cached aggregate.

    eventsourcing fast-forwards a cached aggregate *in place* (under a lock of its own)
    and returns a copy of it. A unit of work here takes an aggregate out of the cache and
    changes that very instance (``ServiceApplication.load_many(take=True)``), so a read
    fast-forwarding the instance just taken ran two changes on one object at once: the
    slot view once failed with ``OriginatorVersionError(2, 4)``, an event applied to an
    aggregate another thread had moved on. Here a read copies the cached aggregate under
    the cache's lock, fast-forwards the copy, and caches a copy of the result if it moved.
    A read at a given version, or with no cache, is eventsourcing's own (it never
    touches a cache). The cache is a :class:`TwoPartCache` (``ServiceApplication.
    construct_repository``).
    """

    def get(
        self,
        aggregate_id: Any,
        *,
        version: int | None = None,
        projector_func: Any = project_aggregate,
        fastforward_skipping: bool = False,
        deepcopy_from_cache: bool = True,
    ) -> Any:
        cache = self.cache
        if version is not None or cache is None:
            return super().get(
                aggregate_id,
                version=version,
                projector_func=projector_func,
                fastforward_skipping=fastforward_skipping,
                deepcopy_from_cache=deepcopy_from_cache,
            )
        assert isinstance(cache, TwoPartCache)
        try:
            aggregate = cache.copy(aggregate_id)
        except KeyError:
            aggregate = self._reconstruct_aggregate(aggregate_id, None, projector_func)
            cache.put(aggregate_id, deepcopy(aggregate))
            return aggregate
        known = aggregate.version
        newer = self.event_store.get(originator_id=aggregate_id, gt=known)
        aggregate = projector_func(aggregate, newer)
        if aggregate is None:
            raise AggregateNotFoundError(aggregate_id)
        if aggregate.version != known:
            cache.put(aggregate_id, deepcopy(aggregate))
        return aggregate
