"""The catalog: locations, resources and services — registered, updated, retired.

Their events carry plain data (see :mod:`.codec`); the aggregates expose value objects.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.domain import Aggregate, event

from slotline.availability.domain import codec
from slotline.availability.domain.resources import ResourceState
from slotline.availability.domain.values import (
    ResourceKind,
    ResourceSchedule,
    ServiceDefinition,
)


class CatalogItemRetired(Exception):
    """The catalog item is retired and can no longer change."""


class _CatalogItem(Aggregate):
    retired = False

    def _check_active(self) -> None:
        if self.retired:
            raise CatalogItemRetired(f"{type(self).__name__} {self.id} is retired")

    def retire(self) -> None:
        """Take it out of use (its history stays). Retiring twice does nothing."""
        if not self.retired:
            self._retired()

    def _retired(self) -> None:
        raise NotImplementedError  # each item records its own ``Retired`` event


class Location(_CatalogItem):
    """A place where resources work, with the time zone its hours are kept in."""

    class Registered(Aggregate.Created):
        tenant_id: str
        name: str
        timezone: str

    @event(Registered)
    def __init__(self, tenant_id: str, name: str, timezone: str) -> None:
        self.tenant_id = tenant_id
        self.name = name
        self.timezone = timezone

    @classmethod
    def register(cls, tenant_id: str, name: str, timezone: str) -> Location:
        ZoneInfo(timezone)  # an unknown zone fails here, not at the first slot search
        return cls(tenant_id=tenant_id, name=name, timezone=timezone)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def update(self, name: str, timezone: str) -> None:
        self._check_active()
        ZoneInfo(timezone)
        self._updated(name=name, timezone=timezone)

    class Updated(Aggregate.Event):
        name: str
        timezone: str

    @event(Updated)
    def _updated(self, name: str, timezone: str) -> None:
        self.name = name
        self.timezone = timezone

    class Retired(Aggregate.Event):
        pass

    @event(Retired)
    def _retired(self) -> None:
        self.retired = True


class Resource(_CatalogItem):
    """A staff member, room or piece of equipment, with its tags and schedule."""

    class Registered(Aggregate.Created):
        tenant_id: str
        location_id: UUID
        kind: str
        name: str
        tags: list[str]
        weekly: list[Any]
        overrides: list[Any]
        time_off: list[Any]

    @event(Registered)
    def __init__(
        self,
        tenant_id: str,
        location_id: UUID,
        kind: str,
        name: str,
        tags: list[str],
        weekly: list[Any],
        overrides: list[Any],
        time_off: list[Any],
    ) -> None:
        self.tenant_id = tenant_id
        self.kind = ResourceKind(kind)
        self._apply_profile(name, location_id, tags)
        self._apply_schedule(weekly, overrides, time_off)

    @classmethod
    def register(
        cls,
        tenant_id: str,
        location_id: UUID,
        kind: ResourceKind,
        name: str,
        tags: Iterable[str],
        schedule: ResourceSchedule,
    ) -> Resource:
        return cls(
            tenant_id=tenant_id,
            location_id=location_id,
            kind=kind.value,
            name=name,
            tags=sorted(tags),
            weekly=codec.weekly_to_data(schedule.weekly),
            overrides=codec.overrides_to_data(schedule.overrides),
            time_off=codec.time_off_to_data(schedule.time_off),
        )

    def update(self, name: str, location_id: UUID, tags: Iterable[str]) -> None:
        self._check_active()
        self._updated(name=name, location_id=location_id, tags=sorted(tags))

    @property
    def schedule(self) -> ResourceSchedule:
        return ResourceSchedule(self.weekly, tuple(self.overrides), tuple(self.time_off))

    def change_schedule(self, schedule: ResourceSchedule) -> None:
        self._check_active()
        self._schedule_changed(
            weekly=codec.weekly_to_data(schedule.weekly),
            overrides=codec.overrides_to_data(schedule.overrides),
            time_off=codec.time_off_to_data(schedule.time_off),
        )

    def state(self, tz: ZoneInfo) -> ResourceState:
        """The resource as slot finding sees it, in its location's time zone."""
        return ResourceState(
            resource_id=self.id,
            kind=self.kind,
            tags=self.tags,
            location_id=self.location_id,
            tz=tz,
            weekly=self.weekly,
            overrides=self.overrides,
            time_off=self.time_off,
            active=not self.retired,
        )

    def _apply_profile(self, name: str, location_id: UUID, tags: list[str]) -> None:
        self.name = name
        self.location_id = location_id
        self.tags = frozenset(tags)

    def _apply_schedule(self, weekly: list[Any], overrides: list[Any], time_off: list[Any]) -> None:
        self.weekly = codec.weekly_from_data(weekly)
        self.overrides = codec.overrides_from_data(overrides)
        self.time_off = codec.time_off_from_data(time_off)

    class Updated(Aggregate.Event):
        name: str
        location_id: UUID
        tags: list[str]

    @event(Updated)
    def _updated(self, name: str, location_id: UUID, tags: list[str]) -> None:
        self._apply_profile(name, location_id, tags)

    class ScheduleChanged(Aggregate.Event):
        weekly: list[Any]
        overrides: list[Any]
        time_off: list[Any]

    @event(ScheduleChanged)
    def _schedule_changed(
        self, weekly: list[Any], overrides: list[Any], time_off: list[Any]
    ) -> None:
        self._apply_schedule(weekly, overrides, time_off)

    class Retired(Aggregate.Event):
        pass

    @event(Retired)
    def _retired(self) -> None:
        self.retired = True


class Service(_CatalogItem):
    """Something customers book; its id is the definition's ``service_id``."""

    @staticmethod
    def create_id(service_id: UUID) -> UUID:
        return service_id

    class Registered(Aggregate.Created):
        service_id: UUID
        tenant_id: str
        location_id: UUID
        name: str
        terms: dict[str, Any]

    @event(Registered)
    def __init__(
        self,
        service_id: UUID,
        tenant_id: str,
        location_id: UUID,
        name: str,
        terms: dict[str, Any],
    ) -> None:
        self.tenant_id = tenant_id
        self.location_id = location_id
        self.name = name
        self.terms = terms

    @classmethod
    def register(
        cls, tenant_id: str, location_id: UUID, name: str, definition: ServiceDefinition
    ) -> Service:
        """A service offered at one location (its resources come from that pool)."""
        terms = codec.terms_to_data(definition)
        return cls(
            service_id=definition.service_id,
            tenant_id=tenant_id,
            location_id=location_id,
            name=name,
            terms=terms,
        )

    @property
    def definition(self) -> ServiceDefinition:
        return codec.terms_from_data(self.id, self.terms)

    def update(self, name: str, definition: ServiceDefinition) -> None:
        self._check_active()
        if definition.service_id != self.id:
            raise ValueError("a service's definition keeps the service's id")
        self._updated(name=name, terms=codec.terms_to_data(definition))

    class Updated(Aggregate.Event):
        name: str
        terms: dict[str, Any]

    @event(Updated)
    def _updated(self, name: str, terms: dict[str, Any]) -> None:
        self.name = name
        self.terms = terms

    class Retired(Aggregate.Event):
        pass

    @event(Retired)
    def _retired(self) -> None:
        self.retired = True
