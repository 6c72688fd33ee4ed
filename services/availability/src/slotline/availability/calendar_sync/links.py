"""Use cases of calendar links: link a resource to a calendar, read the link and its
health, unlink it (its blocks go with it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast
from uuid import UUID

from eventsourcing.postgres import PostgresProcessRecorder

from slotline.availability.calendar_sync.addresses import check_address
from slotline.availability.calendar_sync.credentials import CredentialBox
from slotline.availability.calendar_sync.store import LinkStore
from slotline.availability.catalog_admin import CatalogApplication, UnknownItem
from slotline.availability.domain.calendar_sync import Health, synced


@dataclass(frozen=True)
class LinkStatus:
    """A link as its owner sees it: never the password."""

    resource_id: UUID
    provider: str
    url: str
    username: str
    health: Health
    failures: int
    last_error: str | None
    last_synced_at: datetime | None
    next_sync_at: datetime
    failing_pushes: int
    blocks: int


class CalendarLinks:
    def __init__(
        self, app: CatalogApplication, box: CredentialBox, allow_private: bool = False
    ) -> None:
        self.app = app
        self.box = box
        self.allow_private = allow_private
        self.store = LinkStore(app.schema)

    @property
    def _recorder(self) -> PostgresProcessRecorder:
        return cast(PostgresProcessRecorder, self.app.process_recorder)

    def link(
        self,
        tenant_id: str,
        resource_id: UUID,
        url: str,
        username: str,
        password: str,
        provider: str = "caldav",
    ) -> LinkStatus:
        """Link (or re-link) the tenant's resource; the first sync lists the calendar."""
        self.app.resource(tenant_id, resource_id)  # another tenant's or none: UnknownItem
        check_address(url, self.allow_private)
        sealed = self.box.seal(resource_id, password)
        with self._recorder.datastore.transaction(commit=True) as cursor:
            self.store.save_link(cursor, tenant_id, resource_id, url, username, sealed, provider)
        return self.status(tenant_id, resource_id)

    def status(self, tenant_id: str, resource_id: UUID) -> LinkStatus:
        resource = self.app.resource(tenant_id, resource_id)
        with self._recorder.datastore.transaction(commit=False) as cursor:
            link = self.store.get(cursor, tenant_id, resource_id)
            if link is None:
                raise UnknownItem(f"resource {resource_id} has no calendar link")
            failing = self.store.failing_pushes(cursor, resource_id)
        health = Health.UNHEALTHY if failing else link.health
        return LinkStatus(
            resource_id=resource_id,
            provider=link.provider,
            url=link.url,
            username=link.username,
            health=health,
            failures=link.failures,
            last_error=link.last_error,
            last_synced_at=link.last_synced_at,
            next_sync_at=link.next_sync_at,
            failing_pushes=failing,
            blocks=len(synced(resource.time_off)),
        )

    def unlink(self, tenant_id: str, resource_id: UUID) -> None:
        """The link and what it owes go; the calendar's blocks are removed."""
        self.app.resource(tenant_id, resource_id)
        with self._recorder.datastore.transaction(commit=True) as cursor:
            if not self.store.delete(cursor, tenant_id, resource_id):
                raise UnknownItem(f"resource {resource_id} has no calendar link")
        self.app.calendar_unlinked(tenant_id, resource_id)
