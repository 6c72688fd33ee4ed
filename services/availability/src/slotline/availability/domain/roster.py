"""Which resources belong to a location: where slot finding looks for candidates."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

ROSTER_NAMESPACE = uuid5(NAMESPACE_URL, "https://slotline.dev/availability/roster")


class Roster(Aggregate):
    """The resource pool of one location."""

    @staticmethod
    def create_id(location_id: UUID) -> UUID:
        return uuid5(ROSTER_NAMESPACE, str(location_id))

    def __init__(self, location_id: UUID) -> None:
        self.location_id = location_id
        self.resource_ids: list[UUID] = []

    def enlist(self, resource_id: UUID) -> None:
        if resource_id not in self.resource_ids:
            self._enlisted(resource_id=resource_id)

    @event("Enlisted")
    def _enlisted(self, resource_id: UUID) -> None:
        self.resource_ids.append(resource_id)
