"""The aggregates the live view reads, kept current by the events the projection follows.

Each event is applied to an in-memory copy of its aggregate, so a slot view is
recomputed without reading the store. A copy is fetched from the store only on first
sight, or when a version is missing (then at exactly the event's version).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository

from slotline.events.aggregate_cache import LRUPair

_MISSING = object()  # remembered absence: its first event will create it


class ProjectedState:
    """Aggregates by id, each at the version of the last event applied to it.

    Two LRUs: the ``long_lived`` kinds (resource days, the catalogue), which every
    recomputed day reads, up to ``max_aggregates``; any other kind (a hold, read again
    only while its saga lasts) up to ``max_recent``. Holds kept by the thousand were
    about two fifths of what the garbage collector walked in the projector's process
    (``docs/performance.md``). A remembered absence is kept with the long-lived kinds:
    what is prefetched and not there is a calendar day with nothing on it yet.
    """

    def __init__(
        self,
        repository: Repository[Any],
        max_aggregates: int = 50_000,
        load_many: Callable[[Collection[UUID]], dict[UUID, Any]] | None = None,
        *,
        long_lived: tuple[type, ...] = (object,),
        max_recent: int = 1_000,
    ) -> None:
        self._repository = repository
        self._load_many = load_many
        self._kept: LRUPair[UUID, Any] = LRUPair(
            max_aggregates,
            max_recent,
            lambda aggregate: aggregate is _MISSING or isinstance(aggregate, long_lived),
        )

    def before(self, event: Any) -> Any | None:
        """The aggregate just before ``event`` (``None`` if it is its first event)."""
        aggregate: Any = self._kept.find(event.originator_id)
        if _present(aggregate) and aggregate.version == event.originator_version - 1:
            return aggregate
        if event.originator_version == 1:
            return None
        return self._fetch(event.originator_id, event.originator_version - 1)

    def apply(self, event: Any) -> Any:
        """The aggregate with ``event`` applied (already-included events change nothing)."""
        known: Any = self._kept.find(event.originator_id)
        if (
            known is not None
            and known is not _MISSING
            and known.version >= event.originator_version
        ):
            return known
        aggregate = self.before(event)
        aggregate = event.mutate(aggregate)
        self._kept.keep(event.originator_id, aggregate)
        return aggregate

    def get(self, aggregate_id: UUID) -> Any | None:
        """The aggregate as last seen, or as stored now; ``None`` if it does not exist."""
        aggregate = self._kept.find(aggregate_id)
        if aggregate is not None:
            return None if aggregate is _MISSING else aggregate
        try:
            aggregate = self._repository.get(aggregate_id)
        except AggregateNotFoundError:
            self._kept.keep(aggregate_id, _MISSING)
            return None
        self._kept.keep(aggregate_id, aggregate)
        return aggregate

    def prefetch(self, aggregate_ids: Collection[UUID]) -> None:
        """Read the ones not seen yet in one query (absent ones remembered as absent):
        a day's recomputation asks for every resource's calendar on three days, and one
        query each was 9 queries a booking at 10 bookings/s (PostgreSQL's log)."""
        unseen = [i for i in aggregate_ids if i not in self._kept]
        if not unseen or self._load_many is None:
            return
        found = self._load_many(unseen)
        for aggregate_id in unseen:
            self._kept.keep(aggregate_id, found.get(aggregate_id, _MISSING))

    def forget(self) -> None:
        self._kept.clear()

    def _fetch(self, aggregate_id: UUID, version: int) -> Any:
        return self._repository.get(aggregate_id, version=version)


def _present(aggregate: Any) -> bool:
    return aggregate is not None and aggregate is not _MISSING
