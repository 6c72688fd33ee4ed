"""The two sync jobs (APScheduler, :class:`~slotline.events.periodic.PeriodicJob`).

**Pull** takes the links that are due (leased, ``SKIP LOCKED``: one replica per link),
reads each calendar's changes since its sync token, turns busy times into the
resource's blocks (:meth:`CatalogApplication.calendar_pulled`, the same command path
as time off entered by hand) and stores the new token. **Push** takes the bookings
owed to a calendar and writes (or deletes) each one's event. A failure is recorded on
the link or push row with its reason, counted, and retried after a growing delay —
the job never stops trying. Blocks are changed before the token is stored, so a crash
between the two repeats the pull, which changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from eventsourcing.postgres import PostgresProcessRecorder
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from slotline.availability.calendar_sync.credentials import (
    CredentialBox,
    SealedPasswordUnreadable,
)
from slotline.availability.calendar_sync.port import (
    BookingEntry,
    CalendarAccess,
    CalendarGateway,
    CalendarUnavailable,
)
from slotline.availability.calendar_sync.store import LinkRow, LinkStore, PushRow
from slotline.availability.catalog_admin import CatalogApplication, UnknownItem
from slotline.availability.domain.calendar_sync import booking_uid, retry_delay
from slotline.availability.domain.catalog import CatalogItemRetired
from slotline.availability.domain.values import Interval
from slotline.events.logs import get_logger
from slotline.events.periodic import PeriodicJob
from slotline.events.unit_of_work import ContentionTooHigh

log = get_logger(__name__)

_LEASE = timedelta(minutes=2)
_RELIST_EVERY = timedelta(hours=24)  # recurring events enter the window as days pass


@dataclass(frozen=True)
class SyncPolicy:
    """How often and how far: from the service's settings."""

    interval: timedelta
    retry_ceiling: timedelta
    window: timedelta
    batch_size: int = 20


class CalendarMetrics:
    """The sync's figures on ``/metrics``."""

    def __init__(self) -> None:
        self.registry: CollectorRegistry | None = None

    def attach(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.syncs = Counter(
            "slotline_calendar_syncs",
            "Calendar syncs by direction (pull, push) and outcome (ok, failed)",
            ["direction", "outcome"],
            registry=registry,
        )
        self.links = Gauge(
            "slotline_calendar_links",
            "Calendar links by health (a link with a failing push is unhealthy)",
            ["health"],
            registry=registry,
        )
        self.pull_seconds = Histogram(
            "slotline_calendar_pull_seconds",
            "Time to read one calendar's changes and apply them as blocks",
            registry=registry,
        )

    def count(self, direction: str, outcome: str) -> None:
        if self.registry is not None:
            self.syncs.labels(direction, outcome).inc()

    def show_health(self, counts: dict[str, int]) -> None:
        if self.registry is not None:
            for health in ("pending", "healthy", "unhealthy"):
                self.links.labels(health).set(counts.get(health, 0))


class _Job(PeriodicJob):
    def __init__(
        self,
        app: CatalogApplication,
        gateways: Mapping[str, CalendarGateway],
        box: CredentialBox,
        policy: SyncPolicy,
        metrics: CalendarMetrics,
        *,
        interval_seconds: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(interval_seconds=interval_seconds)
        self.app = app
        self.gateways = gateways
        self.box = box
        self.policy = policy
        self.metrics = metrics
        self.store = LinkStore(app.schema)
        self.clock = clock

    @property
    def _recorder(self) -> PostgresProcessRecorder:
        return cast(PostgresProcessRecorder, self.app.process_recorder)

    def _access(self, link: LinkRow) -> CalendarAccess:
        """The link's credential (its OAuth grant as last renewed, if it was), opened for
        this call; a grant the adapter renews is kept sealed at once."""
        sealed = link.sealed_refreshed or link.sealed_password
        password = self.box.open(link.resource_id, sealed)

        def keep(renewed: str) -> None:
            with self._recorder.datastore.transaction(commit=True) as cursor:
                self.store.keep_refreshed(cursor, link, self.box.seal(link.resource_id, renewed))

        return CalendarAccess(link.url, link.username, password, keep)

    def _retry_in(self, failures: int) -> timedelta:
        return retry_delay(failures, self.policy.interval, self.policy.retry_ceiling)


class CalendarPull(_Job):
    """Busy times of linked calendars → blocks on their resources."""

    name = "calendar-pull"

    def sweep(self) -> int:
        with self._recorder.datastore.transaction(commit=True) as cursor:
            links = self.store.claim_due(cursor, self.policy.batch_size, _LEASE)
        for link in links:
            self.pull(link)
        with self._recorder.datastore.transaction(commit=False) as cursor:
            self.metrics.show_health(self.store.health_counts(cursor))
        return len(links)

    def pull(self, link: LinkRow) -> None:
        started = self.clock()
        relist = link.listed_at is None or started - link.listed_at > _RELIST_EVERY
        token = None if relist else link.sync_token
        try:
            access = self._access(link)
            location = self.app.location(
                link.tenant_id, self.app.resource(link.tenant_id, link.resource_id).location_id
            )
            window = Interval(started - timedelta(days=1), started + self.policy.window)
            result = self.gateways[link.provider].pull(
                access, token, link.uids_by_href, window, location.tz
            )
            self.app.calendar_pulled(
                link.tenant_id,
                link.resource_id,
                result.pulled,
                lambda work: self.store.holds_link(work.cursor, link.resource_id),
            )
        except Exception as error:  # one calendar's trouble never stops the others
            reason = f"pull: {_reason(error)}"
            log.warning(
                "calendar pull failed",
                resource_id=str(link.resource_id),
                tenant_id=link.tenant_id,
                failures=link.failures + 1,
                reason=reason,
            )
            with self._recorder.datastore.transaction(commit=True) as cursor:
                self.store.pull_failed(cursor, link, reason, self._retry_in(link.failures + 1))
            self.metrics.count("pull", "failed")
            return
        with self._recorder.datastore.transaction(commit=True) as cursor:
            self.store.pulled(
                cursor,
                link,
                result.token,
                result.uids_by_href,
                result.pulled.full,
                self.policy.interval,
            )
        self.metrics.count("pull", "ok")
        if self.metrics.registry is not None:
            self.metrics.pull_seconds.observe((self.clock() - started).total_seconds())


class CalendarPush(_Job):
    """Bookings owed to linked calendars → events written or deleted there."""

    name = "calendar-push"

    def sweep(self) -> int:
        with self._recorder.datastore.transaction(commit=True) as cursor:
            due = self.store.claim_pushes(cursor, self.policy.batch_size, _LEASE)
        for push, link in due:
            self.push(push, link)
        return len(due)

    def push(self, push: PushRow, link: LinkRow) -> None:
        uid = booking_uid(push.booking_id)
        try:
            access = self._access(link)
            if push.present and push.slot_start and push.slot_end:
                entry = BookingEntry(
                    uid=uid,
                    summary=push.summary or "Booking",
                    slot=Interval(push.slot_start, push.slot_end),
                    sequence=push.sequence,
                    stamp=self.clock(),
                )
                self.gateways[link.provider].write(access, entry)
            else:
                self.gateways[link.provider].remove(access, uid)
        except Exception as error:  # one calendar's trouble never stops the others
            reason = f"push: {_reason(error)}"
            log.warning(
                "calendar push failed",
                resource_id=str(push.resource_id),
                booking_id=push.booking_id,
                failures=push.failures + 1,
                reason=reason,
            )
            with self._recorder.datastore.transaction(commit=True) as cursor:
                self.store.push_failed(cursor, push, reason, self._retry_in(push.failures + 1))
            self.metrics.count("push", "failed")
            return
        with self._recorder.datastore.transaction(commit=True) as cursor:
            self.store.pushed(cursor, push)
        self.metrics.count("push", "ok")


_EXPECTED = (
    CalendarUnavailable,
    SealedPasswordUnreadable,
    UnknownItem,
    CatalogItemRetired,
    ContentionTooHigh,
)


def _reason(error: Exception) -> str:
    """Why a sync failed, for the link's health and the log: the message of an expected
    failure (the adapters keep credentials out of theirs); an unexpected one by its type
    and first line."""
    if isinstance(error, _EXPECTED):
        return str(error)
    first_line = (str(error).splitlines() or [""])[0][:200]
    return f"{type(error).__name__}: {first_line}"
