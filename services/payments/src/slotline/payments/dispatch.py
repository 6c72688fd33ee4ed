"""The gateway dispatcher: makes the calls ledgers asked for, and records what came of them.

It follows the store's notification log like the relay does. For each operation an
event requested (and that is still pending) it calls the gateway with the operation's
idempotency key, then saves the resulting fact together with its own log position, in
one transaction. A crash between the call and that save leaves the position behind:
the restarted dispatcher makes the same call with the same key, the gateway answers
as before, and the payment is made once.

Operations of one ledger are made in order; different ledgers' side by side.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

import anyio
from eventsourcing.persistence import IntegrityError, Notification, Tracking

from slotline.events.follower import LogFollower
from slotline.events.logs import get_logger
from slotline.payments.application import PaymentsApplication
from slotline.payments.domain.facts import GatewayFact
from slotline.payments.domain.ledger import Ledger
from slotline.payments.domain.operations import Operation
from slotline.payments.gateway.executor import perform

log = get_logger(__name__)

AfterCall = Callable[[Operation, GatewayFact], None]
"""Called between a gateway call and the ledger write (tests use it to crash there)."""


@dataclass(frozen=True, slots=True)
class Requested:
    """An operation found in the log, with where it was found."""

    notification_id: int
    ledger_id: UUID
    tenant_id: str
    booking_id: str
    operation: Operation


class GatewayDispatcher(LogFollower):
    """Follows the payments store and makes each requested gateway operation once."""

    def __init__(
        self,
        app: PaymentsApplication,
        *,
        database_url: str,
        attempts: int = 3,
        backoff_seconds: float = 0.1,
        batch_size: int = 100,
        idle_poll_seconds: float = 1.0,
        after_call: AfterCall | None = None,
    ) -> None:
        super().__init__(
            app,
            database_url=database_url,
            name="gateway-dispatcher",
            batch_size=batch_size,
            idle_poll_seconds=idle_poll_seconds,
        )
        self.payments = app
        self.attempts = attempts
        self.backoff_seconds = backoff_seconds
        self.after_call = after_call
        self.calls = 0

    async def handle(self, notifications: Sequence[Notification]) -> None:
        requested = await anyio.to_thread.run_sync(self._still_pending, notifications)
        facts: dict[int, GatewayFact] = {}
        by_ledger: dict[UUID, list[Requested]] = defaultdict(list)
        for item in requested:
            by_ledger[item.ledger_id].append(item)

        async def make_calls(items: list[Requested]) -> None:
            for item in items:
                facts[item.notification_id] = await anyio.to_thread.run_sync(self._call, item)

        await asyncio.gather(*(make_calls(items) for items in by_ledger.values()))
        for item in requested:
            tracking = Tracking(self.name, item.notification_id)
            fact = facts[item.notification_id]
            await anyio.to_thread.run_sync(self.payments.learn, item.ledger_id, [fact], tracking)
        last = notifications[-1].id
        if not requested or requested[-1].notification_id != last:
            await anyio.to_thread.run_sync(self._record_position, last)

    def _still_pending(self, notifications: Sequence[Notification]) -> list[Requested]:
        """Operations requested in this batch that no fact has completed yet."""
        found: list[Requested] = []
        ledgers: dict[UUID, Ledger] = {}
        for notification in notifications:
            event = self.app.mapper.to_domain_event(notification)
            data = getattr(event, "operation", None)
            if not isinstance(data, dict):
                continue
            operation = Operation.from_data(data)
            ledger_id = notification.originator_id
            assert isinstance(ledger_id, UUID)
            if ledger_id not in ledgers:
                ledgers[ledger_id] = self.payments.repository.get(ledger_id)
            ledger = ledgers[ledger_id]
            if operation.key in ledger.pending:
                found.append(
                    Requested(
                        notification.id, ledger_id, ledger.tenant_id, ledger.booking_id, operation
                    )
                )
        return found

    def _call(self, item: Requested) -> GatewayFact:
        fact = perform(
            self.payments.gateway,
            item.tenant_id,
            item.booking_id,
            item.operation,
            attempts=self.attempts,
            backoff_seconds=self.backoff_seconds,
        )
        self.calls += 1
        if self.after_call is not None:
            self.after_call(item.operation, fact)
        return fact

    def _record_position(self, notification_id: int) -> None:
        try:
            self.app.process_recorder.insert_tracking(Tracking(self.name, notification_id))
        except IntegrityError:
            log.info("dispatcher position already recorded", position=notification_id)
