"""What every use case of the notifier shares: the application's store and tables, its
configuration, the aggregates it loads in a unit of work, the queue and the tenants'
preferences.

Every use case is one transaction (:func:`unit_of_work`): the booking card, the queue
rows, the aggregates' new events (the outbox) and the inbox tracking record commit
together. Nothing is sent by a use case: the dispatcher sends what the queue holds, so
a redelivered event changes nothing and a crash loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from slotline.events.clock import utc_now
from slotline.events.contract.registry import messages_on
from slotline.events.envelope import Message
from slotline.events.recorder import SlotlineRecorder
from slotline.events.sealing import SecretBox, development_key
from slotline.events.store import ServiceApplication
from slotline.events.topics import BOOKING_EVENTS, PAYMENTS_EVENTS
from slotline.notifier.calendar_files import FeedGrant, booking_ics
from slotline.notifier.domain.booking_card import BookingCard
from slotline.notifier.domain.consent import Consent
from slotline.notifier.domain.notification import Notification
from slotline.notifier.domain.outgoing import QueuedMessage
from slotline.notifier.domain.preferences import TenantPreferences
from slotline.notifier.domain.reminders import BookingReminders
from slotline.notifier.domain.webhooks import PausePolicy, RetryPolicy
from slotline.notifier.persistence.rows import MemoryRows
from slotline.notifier.persistence.unit_of_work import UnitOfWork, reading, unit_of_work
from slotline.notifier.rendering import Templates

A = TypeVar("A", bound=Aggregate)


class Invalid(ValueError):
    """A request the notifier can never act on (no address, bad template, …)."""


WEBHOOK_TOPICS = (BOOKING_EVENTS, PAYMENTS_EVENTS)
"""The public topics whose events a webhook subscription may ask for."""
WEBHOOK_MESSAGES: tuple[type[Message], ...] = tuple(
    cls for topic in WEBHOOK_TOPICS for cls in messages_on(topic)
)
"""The public events a webhook may deliver."""
WEBHOOK_EVENT_TYPES: tuple[str, ...] = tuple(dict.fromkeys(c.EVENT_TYPE for c in WEBHOOK_MESSAGES))
"""Their names, each once (an event with two schema versions is one type): the words a
subscription asks for them with."""


def _any_url(url: str) -> None:
    return None


WEBHOOK_SECRETS_DEVELOPMENT_KEY = development_key("webhook-secrets")
"""Published, for development and tests only (production refuses to start with it)."""


@dataclass(frozen=True)
class WebhookConfig:
    """Outbound webhooks' rules (``SLOTLINE_WEBHOOK_*`` settings)."""

    retry: RetryPolicy = field(default_factory=RetryPolicy)
    pause: PausePolicy = field(default_factory=PausePolicy)
    secret_overlap: timedelta = timedelta(hours=24)
    log_kept: timedelta = timedelta(days=30)
    """How long an ended delivery and its attempts stay in the log."""
    check_url: Callable[[str], None] = _any_url
    """Refuses a URL a webhook may not be sent to (raises ``UnsafeUrl``)."""
    clock: Callable[[], datetime] = utc_now
    """Webhooks run on the wall clock: receivers check ``webhook-timestamp`` against theirs."""
    box: SecretBox = field(default_factory=lambda: SecretBox(WEBHOOK_SECRETS_DEVELOPMENT_KEY))
    """Seals the signing secrets and the deliveries' bodies at rest
    (``SLOTLINE_WEBHOOK_SECRETS_KEY``)."""


@dataclass(frozen=True)
class NotifierConfig:
    defaults: TenantPreferences
    default_zone: str = "UTC"
    organizer_email: str | None = None
    whatsapp_templates: dict[str, str] | None = None
    template_dir: Path | None = None
    webhooks: WebhookConfig = field(default_factory=WebhookConfig)


class NotifierCore(ServiceApplication):
    """The notifier's store, queue and read models; the use cases are its subclasses'."""

    name = "notifier"
    # No aggregate cache: notifications are many and each is read a few times, always
    # in a unit of work's own transaction.
    env: ClassVar[dict[str, str]] = {}

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        config: NotifierConfig,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(env=env)
        in_memory = not isinstance(self.recorder, SlotlineRecorder)
        self.memory_rows: MemoryRows | None = MemoryRows() if in_memory else None
        self.config = config
        self.clock = clock
        self.templates = Templates(config.template_dir)
        self.queued_listeners: list[Callable[[], None]] = []
        self.webhook_listeners: list[Callable[[], None]] = []

    # --- shared helpers ----------------------------------------------------------------

    def _wake(self) -> None:
        """Tell the dispatcher that something may be due now."""
        for listener in self.queued_listeners:
            listener()

    def _load(self, cls: type[A], aggregate_id: UUID, work: UnitOfWork, **create: Any) -> A:
        """The aggregate as the work sees it (one instance per unit of work), or a new
        one; either way saved with the work."""
        aggregate = work.get(cls, aggregate_id)
        if aggregate is None:
            aggregate = cls(**create)
        work.save(aggregate)
        return aggregate

    def reminders_of(self, work: UnitOfWork, tenant_id: str, booking_id: str) -> BookingReminders:
        return self._load(
            BookingReminders,
            BookingReminders.create_id(tenant_id, booking_id),
            work,
            tenant_id=tenant_id,
            booking_id=booking_id,
        )

    def consent_of(self, work: UnitOfWork, tenant_id: str, address: str) -> Consent:
        return self._load(
            Consent,
            Consent.create_id(tenant_id, address),
            work,
            tenant_id=tenant_id,
            address=address,
        )

    def notification_of(
        self, work: UnitOfWork, tenant_id: str, notification_id: str
    ) -> Notification:
        return self._load(
            Notification,
            Notification.create_id(tenant_id, notification_id),
            work,
            tenant_id=tenant_id,
            notification_id=notification_id,
        )

    def preferences(
        self, work: UnitOfWork, tenant_ids: Iterable[str]
    ) -> dict[str, TenantPreferences]:
        tenants = sorted(set(tenant_ids))
        stored = work.rows.preferences(tenants)
        return {t: self.config.defaults.overridden(stored.get(t, {})) for t in tenants}

    def _enqueue(self, work: UnitOfWork, messages: Iterable[QueuedMessage]) -> int:
        return sum(work.rows.enqueue(m) for m in messages)

    def _ics(self, card: BookingCard) -> str | None:
        """The booking's .ics, for the e-mail: the one channel that carries it. None for a
        customer without an address (making it was ~8 % of the service's CPU under
        ``make loadtest``, whose customers book by phone only)."""
        if not card.email:
            return None
        return booking_ics(card, self.clock(), self.config.organizer_email)

    # --- tenants' preferences and resources' calendar feeds -------------------------------

    def save_preferences(self, tenant_id: str, values: dict[str, Any]) -> TenantPreferences:
        with unit_of_work(self) as work:
            work.rows.save_preferences(tenant_id, values)
            return self.preferences(work, [tenant_id])[tenant_id]

    def preferences_of(self, tenant_id: str) -> TenantPreferences:
        with reading(self) as work:
            return self.preferences(work, [tenant_id])[tenant_id]

    def feed_version(self, tenant_id: str, resource_id: str) -> int:
        """The version a new feed URL of the resource is bound to."""
        with reading(self) as work:
            return work.rows.feed_version(tenant_id, resource_id)

    def rotate_feed(self, tenant_id: str, resource_id: str) -> int:
        """A new feed version for the resource: every URL given out before stops working."""
        with unit_of_work(self) as work:
            return work.rows.rotate_feed(tenant_id, resource_id, self.clock())

    def feed_bookings(self, grant: FeedGrant) -> list[BookingCard] | None:
        """The bookings of the resource (any kind: staff, room, equipment) a valid token
        names, or None when its feed was rotated since the token was made."""
        with reading(self) as work:
            if work.rows.feed_version(grant.tenant_id, grant.resource_id) != grant.version:
                return None
            return work.rows.cards_of_resource(grant.tenant_id, grant.resource_id)
