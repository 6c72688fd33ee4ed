"""What a service publishes: a table from domain event class to integration event.

A service declares the aggregates whose life is public and, for each event class it
publishes, a function of the aggregate *right after* that event and the event itself.
The relay keeps each followed aggregate's state as it reads the log (one event applied
to the state it had after the previous one), so mapping reads nothing from the
database; only the first event it meets of an aggregate (after a restart) costs one
read. Events of other aggregates (calendars, claims) are skipped without decoding
their state. Declaring an event class of an aggregate the publisher does not follow
fails at start, not by publishing nothing.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from eventsourcing.domain import Aggregate, CanMutateAggregate

from slotline.events.envelope import Message

E = TypeVar("E")

Mapping = Callable[[Any, Any], Message | None]
"""(the aggregate after the event, the event) → the message to publish, or None."""


class Publisher:
    """The publishing table of one service (see the module doc)."""

    def __init__(self, *aggregates: type[Aggregate]) -> None:
        self._owners: dict[type, type[Aggregate]] = {}
        self._mappings: dict[type, Mapping] = {}
        self.follow(*aggregates)

    def follow(self, *aggregates: type[Aggregate]) -> None:
        """Also follow these aggregates (shared plumbing adds its own, e.g. the audit trail)."""
        for aggregate in aggregates:
            for event_class in event_classes(aggregate):
                self._owners.setdefault(event_class, aggregate)

    def on(self, *event_classes: type) -> Callable[[Mapping], Mapping]:
        """Decorator: ``mapping`` publishes each of ``event_classes``."""

        def register(mapping: Mapping) -> Mapping:
            for event_class in event_classes:
                self.add(event_class, mapping)
            return mapping

        return register

    def add(self, event_class: type, mapping: Mapping) -> None:
        if event_class not in self._owners:
            raise TypeError(
                f"{event_class.__qualname__} is not an event of an aggregate this publisher "
                "follows; name its aggregate in Publisher(...)"
            )
        if event_class in self._mappings:
            raise TypeError(f"{event_class.__qualname__} is published twice")
        self._mappings[event_class] = mapping

    def follows(self, domain_event: object) -> bool:
        """Whether the relay must keep the state of this event's aggregate."""
        return type(domain_event) in self._owners

    def message_for(self, aggregate: Any, domain_event: object) -> Message | None:
        mapping = self._mappings.get(type(domain_event))
        return mapping(aggregate, domain_event) if mapping is not None else None

    @property
    def published(self) -> frozenset[type]:
        return frozenset(self._mappings)


def event_classes(aggregate: type[Aggregate]) -> Iterator[type]:
    """The event classes an aggregate class defines or inherits (its nested classes)."""
    seen: set[type] = set()
    for klass in aggregate.__mro__:
        for value in vars(klass).values():
            is_event = isinstance(value, type) and issubclass(value, CanMutateAggregate)
            if is_event and value not in seen:
                seen.add(value)
                yield value


class AggregateStates:
    """The relay's copy of each followed aggregate, as of the last event it read.

    The relay reads the log in order, moments after each commit, so the state it needs
    is nearly always one it made in the last batches; the few it keeps bound what the
    garbage collector walks (see :class:`~slotline.events.store.ServiceApplication`).
    A state evicted costs one read of its aggregate when its next event comes.
    """

    def __init__(self, load: Callable[[Any, int], Any], maxsize: int = 1_000) -> None:
        self.load = load
        self._maxsize = maxsize
        self._states: OrderedDict[Any, Any] = OrderedDict()

    def advance(self, domain_event: Any) -> Any:
        """The aggregate right after ``domain_event`` (which the relay reads in order)."""
        aggregate_id = domain_event.originator_id
        version = domain_event.originator_version
        state = self._states.pop(aggregate_id, None)
        if state is None or state.version != version - 1:
            state = self.load(aggregate_id, version - 1) if version > 1 else None
        state = domain_event.mutate(state)
        self._states[aggregate_id] = state
        if len(self._states) > self._maxsize:
            self._states.popitem(last=False)
        return state

    def forget(self, aggregate_id: Any) -> None:
        self._states.pop(aggregate_id, None)
