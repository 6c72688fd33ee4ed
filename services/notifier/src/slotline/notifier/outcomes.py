"""The dispatcher's side of the store: claim due messages, load what deciding needs,
record what happened — each one transaction.

Outcomes are recorded as events of the ``Notification`` and ``BookingReminders``
aggregates (published by the relay) together with the queue rows' new states.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from slotline.events.logs import get_logger
from slotline.notifier.application import NotifierApplication
from slotline.notifier.domain.consent import Consent, Scope
from slotline.notifier.domain.notification import Notification
from slotline.notifier.domain.outgoing import EMAIL, Allows, QueuedMessage
from slotline.notifier.domain.preferences import TenantPreferences
from slotline.notifier.domain.reminders import BookingReminders
from slotline.notifier.persistence import queue, records
from slotline.notifier.persistence.unit_of_work import UnitOfWork, reading, unit_of_work

log = get_logger(__name__)

A = TypeVar("A", bound=Aggregate)


@dataclass(frozen=True)
class Attempt:
    """One channel tried: accepted (``provider_reference``) or failed (``reason``)."""

    channel: str
    provider_reference: str | None = None
    permanent: bool = False
    reason: str = ""

    @property
    def accepted(self) -> bool:
        return self.provider_reference is not None


@dataclass(frozen=True)
class Result:
    """What became of one claimed message."""

    message: QueuedMessage
    attempts: tuple[Attempt, ...] = ()
    refused: tuple[tuple[str, str], ...] = ()  # channels dropped before sending, and why
    deferred_until: datetime | None = None
    skipped: str | None = None
    problem: str | None = None  # a template that does not render: nothing was sent

    @property
    def sent_on(self) -> str | None:
        return next((a.channel for a in self.attempts if a.accepted), None)


@dataclass
class SendingContext:
    """What deciding about a batch needs: consents, WhatsApp windows, preferences."""

    consents: dict[UUID, Consent] = field(default_factory=dict)
    windows: dict[tuple[str, str], datetime] = field(default_factory=dict)
    preferences: dict[str, TenantPreferences] = field(default_factory=dict)

    def allows(self, message: QueuedMessage) -> Allows:
        def check(channel: str, scope: str) -> bool:
            if channel == EMAIL or not message.to_phone:
                return True
            consent = self.consents.get(Consent.create_id(message.tenant_id, message.to_phone))
            return consent is None or consent.allows(Scope(scope))

        return check


@dataclass
class Writes:
    """A batch's row changes, written together (pipelined) after deciding them all."""

    deferred: list[tuple[QueuedMessage, datetime]] = field(default_factory=list)
    finished: list[queue.Finished] = field(default_factory=list)
    deliveries: list[records.Delivery] = field(default_factory=list)


class Outcomes:
    """Claims, context and outcome recording for the dispatcher (blocking calls)."""

    def __init__(self, app: NotifierApplication) -> None:
        self.app = app

    def claim(self, now: datetime, limit: int, lane: str | None = None) -> list[QueuedMessage]:
        with unit_of_work(self.app) as work:
            return queue.claim_due(work, now, limit, lane)

    def context_for(self, messages: Sequence[QueuedMessage]) -> SendingContext:
        phones = {(m.tenant_id, m.to_phone) for m in messages if m.to_phone}
        ids = [Consent.create_id(t, p) for t, p in phones]
        consents = {i: c for i, c in self.app.get_many(ids).items() if isinstance(c, Consent)}
        with reading(self.app) as work:
            windows = records.windows(work, sorted(phones))
            prefs = self.app.preferences(work, {m.tenant_id for m in messages})
        return SendingContext(consents, windows, prefs)

    def record(self, results: Sequence[Result], now: datetime) -> None:
        """Every result of a batch in one transaction (retried whole on a conflict)."""
        notifications = self._existing(
            Notification,
            [
                Notification.create_id(r.message.tenant_id, r.message.notification_id)
                for r in results
            ],
        )
        reminders = self._existing(
            BookingReminders,
            [
                BookingReminders.create_id(r.message.tenant_id, r.message.booking_id)
                for r in results
                if r.message.reminder_kind and r.message.booking_id
            ],
        )
        writes = Writes()
        for result in results:
            self._record_one(writes, result, notifications, reminders)
        with unit_of_work(self.app) as work:
            queue.defer_many(work, writes.deferred)
            queue.finish_many(work, writes.finished, now)
            records.record_deliveries(work, writes.deliveries, now)
            work.save(*notifications.values(), *reminders.values())

    def _existing(self, cls: type[A], ids: list[UUID]) -> dict[UUID, A]:
        return {i: a for i, a in self.app.get_many(ids).items() if isinstance(a, cls)}

    def _record_one(
        self,
        writes: Writes,
        result: Result,
        notifications: dict[UUID, Notification],
        reminders: dict[UUID, BookingReminders],
    ) -> None:
        message = result.message
        if result.deferred_until is not None:
            writes.deferred.append((message, result.deferred_until))
            return

        def notification() -> Notification:
            key = Notification.create_id(message.tenant_id, message.notification_id)
            if key not in notifications:
                notifications[key] = Notification(
                    tenant_id=message.tenant_id,
                    notification_id=message.notification_id,
                    booking_id=message.booking_id,
                    template=message.template,
                )
            return notifications[key]

        def booking_reminders() -> BookingReminders:
            assert message.booking_id is not None
            key = BookingReminders.create_id(message.tenant_id, message.booking_id)
            if key not in reminders:
                reminders[key] = BookingReminders(
                    tenant_id=message.tenant_id, booking_id=message.booking_id
                )
            return reminders[key]

        tried = [(c, False, why) for c, why in result.refused] + [
            (a.channel, a.accepted, a.reason) for a in result.attempts
        ]
        tried.sort(key=lambda t: message.channels.index(t[0]) if t[0] in message.channels else 99)
        permanent = {a.channel: a.permanent for a in result.attempts}
        for index, (channel, accepted, reason) in enumerate(tried):
            if accepted:
                continue
            fallback = tried[index + 1][0] if index + 1 < len(tried) else None
            notification().failed(channel, permanent.get(channel, True), reason, fallback)

        if result.skipped is not None:
            if message.reminder_kind and result.skipped == "too_late":
                booking_reminders().skip(message.reminder_kind, "too_late")
            elif not result.refused:
                notification().failed(message.channels[0], True, result.skipped, None)
            writes.finished.append((message, queue.SKIPPED, result.skipped))
            return
        if result.problem is not None:
            notification().failed(message.channels[0], True, result.problem, None)
            writes.finished.append((message, queue.FAILED, result.problem))
            return
        for attempt in result.attempts:
            if attempt.accepted:
                assert attempt.provider_reference is not None
                notification().sent(attempt.channel, attempt.provider_reference)
                writes.deliveries.append(
                    (
                        attempt.provider_reference,
                        message.tenant_id,
                        message.key,
                        message.notification_id,
                        attempt.channel,
                    )
                )
        sent_on = result.sent_on
        if sent_on and message.reminder_kind:
            booking_reminders().mark_fired(message.reminder_kind)
        outcome = f"sent:{sent_on}" if sent_on else "; ".join(a.reason for a in result.attempts)
        writes.finished.append((message, queue.DONE if sent_on else queue.FAILED, outcome))

    def interrupt_stale(self, now: datetime, claimed_before: datetime) -> int:
        """Claims left by a process that died mid-send: reported, never resent."""
        with unit_of_work(self.app) as work:
            stale = queue.interrupt_stale(work, claimed_before, now)
            for message in stale:
                notification = self.app.notification_of(
                    work, message.tenant_id, message.notification_id
                )
                notification.failed(
                    message.channels[0],
                    False,
                    "interrupted while sending; not resent so that it is never sent twice",
                    None,
                )
        if stale:
            log.warning("interrupted sends found", count=len(stale))
        return len(stale)

    def delivery_reported(self, provider_reference: str, status: str, error: str | None) -> bool:
        """A provider's status callback; a failure after acceptance falls back. False if unknown."""
        now = self.app.clock()
        with unit_of_work(self.app) as work:
            delivery = records.find_delivery(work, provider_reference)
            if delivery is None:
                return False
            tenant_id, channel = delivery["tenant_id"], delivery["channel"]
            notification = self.app.notification_of(work, tenant_id, delivery["notification_id"])
            if status == "delivered":
                notification.report_delivered(channel)
                records.mark_delivery(work, provider_reference, "delivered", now)
            elif status in {"failed", "undelivered"} and delivery["state"] == "sent":
                fallback = self._fall_back(work, tenant_id, delivery["message_key"], channel, now)
                reason = f"provider reported {status}" + (f" ({error})" if error else "")
                notification.failed(channel, True, reason, fallback)
                records.mark_delivery(work, provider_reference, "failed", now)
        self.app._wake()
        return True

    def _fall_back(
        self, work: UnitOfWork, tenant_id: str, key: str, failed: str, now: datetime
    ) -> str | None:
        body = records.message_body(work, tenant_id, key)
        if body is None:
            return None
        message = queue.from_body(body)
        rest = (
            message.channels[message.channels.index(failed) + 1 :]
            if failed in message.channels
            else ()
        )
        rest = tuple(c for c in rest if message.address(c))
        if not rest:
            return None
        queue.enqueue(
            work, replace(message, key=f"{key}:after-{failed}", channels=rest, due_at=now)
        )
        return rest[0]
