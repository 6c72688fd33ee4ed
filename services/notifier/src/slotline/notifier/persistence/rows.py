"""The rows a use case reads and writes beside its aggregates: booking cards, the queue,
feed versions, WhatsApp windows, inbound message ids, tenants' preferences.

A port with two adapters: :class:`SqlRows` (the service, in the unit of work's
PostgreSQL transaction) and :class:`MemoryRows` (use-case tests on the in-memory event
store, as every other service has). The dispatcher's side of the queue — claiming,
finishing, deferring rows — needs row locks across replicas and stays SQL-only
(:mod:`.queue`).
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from slotline.notifier.domain.booking_card import BookingCard
from slotline.notifier.domain.outgoing import QueuedMessage
from slotline.notifier.persistence import queue, records
from slotline.notifier.persistence.personal_rows import ERASED_OUTCOME, person_of

if TYPE_CHECKING:
    from slotline.notifier.persistence.unit_of_work import UnitOfWork


class Rows(Protocol):
    def save_card(self, card: BookingCard) -> None: ...

    def load_card(self, tenant_id: str, booking_id: str) -> BookingCard | None: ...

    def cards_of_resource(self, tenant_id: str, resource_id: str) -> list[BookingCard]: ...

    def feed_version(self, tenant_id: str, resource_id: str) -> int: ...

    def rotate_feed(self, tenant_id: str, resource_id: str, at: datetime) -> int: ...

    def open_window(self, tenant_id: str, phone: str, at: datetime) -> None: ...

    def first_sight_of_inbound(self, tenant_id: str, message_sid: str) -> bool: ...

    def preferences(self, tenant_ids: list[str]) -> dict[str, dict[str, Any]]: ...

    def save_preferences(self, tenant_id: str, values: dict[str, Any]) -> None: ...

    def enqueue(self, message: QueuedMessage) -> bool:
        """Queue ``message`` unless its key is queued already; True when queued now."""
        ...

    def skip_scheduled_for_booking(
        self, tenant_id: str, booking_id: str, reason: str, now: datetime
    ) -> list[tuple[str | None, str]]:
        """Skip the booking's waiting messages; (reminder kind, key) of each."""
        ...

    def forget_people(self, tenant_id: str, people: list[str], now: datetime) -> int:
        """Erasure: the people's (by pseudonym) waiting messages are skipped and their
        booking cards dropped; how many rows."""
        ...


class SqlRows:
    """:class:`Rows` in the work's transaction (the SQL is in :mod:`.records`, :mod:`.queue`)."""

    def __init__(self, work: UnitOfWork) -> None:
        self.work = work

    def save_card(self, card: BookingCard) -> None:
        records.save_card(self.work, card)

    def load_card(self, tenant_id: str, booking_id: str) -> BookingCard | None:
        return records.load_card(self.work, tenant_id, booking_id)

    def cards_of_resource(self, tenant_id: str, resource_id: str) -> list[BookingCard]:
        return records.cards_of_resource(self.work, tenant_id, resource_id)

    def feed_version(self, tenant_id: str, resource_id: str) -> int:
        return records.feed_version(self.work, tenant_id, resource_id)

    def rotate_feed(self, tenant_id: str, resource_id: str, at: datetime) -> int:
        return records.rotate_feed(self.work, tenant_id, resource_id, at)

    def open_window(self, tenant_id: str, phone: str, at: datetime) -> None:
        records.open_window(self.work, tenant_id, phone, at)

    def first_sight_of_inbound(self, tenant_id: str, message_sid: str) -> bool:
        return records.first_sight_of_inbound(self.work, tenant_id, message_sid)

    def preferences(self, tenant_ids: list[str]) -> dict[str, dict[str, Any]]:
        return records.preferences(self.work, tenant_ids)

    def save_preferences(self, tenant_id: str, values: dict[str, Any]) -> None:
        records.save_preferences(self.work, tenant_id, values)

    def enqueue(self, message: QueuedMessage) -> bool:
        return queue.enqueue(self.work, message)

    def skip_scheduled_for_booking(
        self, tenant_id: str, booking_id: str, reason: str, now: datetime
    ) -> list[tuple[str | None, str]]:
        return queue.skip_scheduled_for_booking(self.work, tenant_id, booking_id, reason, now)

    def forget_people(self, tenant_id: str, people: list[str], now: datetime) -> int:
        return records.forget_people(self.work, tenant_id, people, now)


@dataclass
class QueuedRow:
    message: QueuedMessage
    state: str = queue.SCHEDULED
    outcome: str | None = None


@dataclass
class MemoryRows:
    """:class:`Rows` in memory. A unit of work writes a :meth:`draft`, which replaces
    the committed rows only if the work commits (:meth:`take`)."""

    cards: dict[tuple[str, str], BookingCard] = field(default_factory=dict)
    feed_versions: dict[tuple[str, str], int] = field(default_factory=dict)
    windows: dict[tuple[str, str], datetime] = field(default_factory=dict)
    inbound: set[tuple[str, str]] = field(default_factory=set)
    stored_preferences: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: dict[tuple[str, str], QueuedRow] = field(default_factory=dict)

    def draft(self) -> MemoryRows:
        return copy.deepcopy(self)

    def take(self, draft: MemoryRows) -> None:
        vars(self).update(vars(draft))

    def save_card(self, card: BookingCard) -> None:
        self.cards[card.tenant_id, card.booking_id] = card

    def load_card(self, tenant_id: str, booking_id: str) -> BookingCard | None:
        return self.cards.get((tenant_id, booking_id))

    def cards_of_resource(self, tenant_id: str, resource_id: str) -> list[BookingCard]:
        found = [
            card
            for (tenant, _), card in self.cards.items()
            if tenant == tenant_id and resource_id in card.resource_ids
        ]
        return sorted(found, key=lambda card: card.starts_at)

    def feed_version(self, tenant_id: str, resource_id: str) -> int:
        return self.feed_versions.get((tenant_id, resource_id), 0)

    def rotate_feed(self, tenant_id: str, resource_id: str, at: datetime) -> int:
        version = self.feed_version(tenant_id, resource_id) + 1
        self.feed_versions[tenant_id, resource_id] = version
        return version

    def open_window(self, tenant_id: str, phone: str, at: datetime) -> None:
        last = self.windows.get((tenant_id, phone))
        self.windows[tenant_id, phone] = max(last, at) if last else at

    def first_sight_of_inbound(self, tenant_id: str, message_sid: str) -> bool:
        seen = (tenant_id, message_sid) in self.inbound
        self.inbound.add((tenant_id, message_sid))
        return not seen

    def preferences(self, tenant_ids: list[str]) -> dict[str, dict[str, Any]]:
        stored = self.stored_preferences
        return {t: dict(stored[t]) for t in tenant_ids if t in stored}

    def save_preferences(self, tenant_id: str, values: dict[str, Any]) -> None:
        self.stored_preferences[tenant_id] = dict(values)

    def enqueue(self, message: QueuedMessage) -> bool:
        if (message.tenant_id, message.key) in self.messages:
            return False
        self.messages[message.tenant_id, message.key] = QueuedRow(message)
        return True

    def skip_scheduled_for_booking(
        self, tenant_id: str, booking_id: str, reason: str, now: datetime
    ) -> list[tuple[str | None, str]]:
        skipped = []
        for (tenant, key), row in self.messages.items():
            message = row.message
            mine = tenant == tenant_id and message.booking_id == booking_id
            if mine and row.state == queue.SCHEDULED:
                row.state, row.outcome = queue.SKIPPED, reason
                skipped.append((message.reminder_kind, key))
        return skipped

    def forget_people(self, tenant_id: str, people: list[str], now: datetime) -> int:
        count = 0
        for (tenant, _), row in self.messages.items():
            mine = tenant == tenant_id and person_of(asdict(row.message)) in people
            if mine and row.state == queue.SCHEDULED:
                row.state, row.outcome, count = queue.SKIPPED, ERASED_OUTCOME, count + 1
        for key, card in list(self.cards.items()):
            if key[0] == tenant_id and person_of(asdict(card)) in people:
                del self.cards[key]
                count += 1
        return count

    def queued(self, tenant_id: str, state: str = queue.SCHEDULED) -> list[QueuedMessage]:
        """The tenant's messages in ``state``, by due time (what a test looks at)."""
        rows = [r for (t, _), r in self.messages.items() if t == tenant_id and r.state == state]
        return sorted((r.message for r in rows), key=lambda m: m.due_at)
