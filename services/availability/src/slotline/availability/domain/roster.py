"""What a location offers: its resource pool and its services.

Slot finding looks here for candidate resources; the live view for the services
to recompute when a resource's calendar changes.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

ROSTER_NAMESPACE = uuid5(NAMESPACE_URL, "https://slotline.dev/availability/roster")


class Roster(Aggregate):
    """The resource pool and service list of one location."""

    @staticmethod
    def create_id(location_id: UUID) -> UUID:
        return uuid5(ROSTER_NAMESPACE, str(location_id))

    def __init__(self, location_id: UUID) -> None:
        self.location_id = location_id
        self.resource_ids: list[UUID] = []
        self.service_ids: list[UUID] = []

    def enlist(self, resource_id: UUID) -> None:
        if resource_id not in self.resource_ids:
            self._enlisted(resource_id=resource_id)

    def offer(self, service_id: UUID) -> None:
        if service_id not in self.service_ids:
            self._offered(service_id=service_id)

    def note_change(self, resource_id: UUID) -> None:
        """A resource's profile or schedule changed: the roster's version moves on, so
        whoever cached the location's resources knows to read them again."""
        self._resource_changed(resource_id=resource_id)

    @event("ResourceChanged")
    def _resource_changed(self, resource_id: UUID) -> None:
        pass

    @event("Enlisted")
    def _enlisted(self, resource_id: UUID) -> None:
        self.resource_ids.append(resource_id)

    @event("Offered")
    def _offered(self, service_id: UUID) -> None:
        self.service_ids.append(service_id)
