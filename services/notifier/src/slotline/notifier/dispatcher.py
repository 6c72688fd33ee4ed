"""The dispatcher: a background job that sends what the queue says is due.

APScheduler polls on an interval (and is woken at once when a use case queues
something, for text-backs). Each pass claims a batch in the database before sending
— so a message is never sent by two replicas — decides per message (send, defer to
the sending window, skip as too late), sends concurrently, and records the batch's
outcomes in one transaction. Reminders are rows, so a restart or a long downtime
loses none: whatever is due is sent on the first pass, unless it is too late.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import anyio
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from slotline.events.logs import get_logger
from slotline.notifier.application import NotifierApplication
from slotline.notifier.domain.outgoing import Defer, QueuedMessage, Skip, decide
from slotline.notifier.domain.sending_window import recipient_zone
from slotline.notifier.outcomes import Outcomes, Result, SendingContext
from slotline.notifier.sending import Delivery

log = get_logger(__name__)


class Dispatcher:
    name = "dispatcher"

    def __init__(
        self,
        app: NotifierApplication,
        delivery: Delivery,
        *,
        interval_seconds: float = 1.0,
        batch_size: int = 500,
        interrupted_after_seconds: float = 300.0,
    ) -> None:
        self.app = app
        self.outcomes = Outcomes(app)
        self.delivery = delivery
        self.interval_seconds = interval_seconds
        self.batch_size = batch_size
        self.interrupted_after = timedelta(seconds=interrupted_after_seconds)
        self.dispatched = 0
        self._stopping = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._woken = False
        self._scheduler: AsyncIOScheduler | None = None

    async def run(self) -> None:
        now = self.app.clock()
        await anyio.to_thread.run_sync(
            self.outcomes.interrupt_stale, now, now - self.interrupted_after
        )
        loop = asyncio.get_running_loop()

        def wake_from_thread() -> None:
            loop.call_soon_threadsafe(self.wake)

        self.app.queued_listeners.append(wake_from_thread)
        scheduler = AsyncIOScheduler(event_loop=loop)
        scheduler.add_job(
            self._pass,
            "interval",
            seconds=self.interval_seconds,
            max_instances=1,
            coalesce=True,
            id=self.name,
            next_run_time=datetime.now(UTC),
        )
        scheduler.add_job(  # a replica that died mid-send leaves claims: report them
            self._interrupt_stale,
            "interval",
            seconds=max(1.0, self.interrupted_after.total_seconds() / 2),
            max_instances=1,
            coalesce=True,
            id=f"{self.name}-interrupted",
        )
        self._scheduler = scheduler
        scheduler.start()
        try:
            await self._stopping.wait()
        finally:
            self.app.queued_listeners.remove(wake_from_thread)
            scheduler.shutdown(wait=False)
            await self._idle.wait()  # let the batch in flight finish and be recorded

    def stop(self) -> None:
        self._stopping.set()

    async def _interrupt_stale(self) -> None:
        """Claims older than any send can take were left by a process that died: they
        are reported failed now, not at some later start (never resent: at most once)."""
        now = self.app.clock()
        try:
            await anyio.to_thread.run_sync(
                self.outcomes.interrupt_stale, now, now - self.interrupted_after
            )
        except Exception as error:  # the next interval tries again
            log.error("interrupted sends not reported", error=repr(error))

    def wake(self) -> None:
        """Run a pass now (or right after the one running)."""
        self._woken = True
        if self._idle.is_set() and self._scheduler is not None and not self._stopping.is_set():
            self._scheduler.modify_job(self.name, next_run_time=datetime.now(UTC))

    async def _pass(self) -> None:
        """Batches until nothing is due; a batch's outcomes are recorded while the next
        one is sent (at most two recordings in flight)."""
        self._idle.clear()
        recording: set[asyncio.Task[None]] = set()
        try:
            while not self._stopping.is_set():
                self._woken = False
                now = self.app.clock()
                results = await self._send_batch(now)
                if results:
                    task = asyncio.create_task(self._record(results, now))
                    recording.add(task)
                    task.add_done_callback(recording.discard)
                    if len(recording) >= 2:
                        await asyncio.wait(recording, return_when=asyncio.FIRST_COMPLETED)
                if len(results) < self.batch_size and not self._woken:
                    break
        except Exception as error:  # the next interval tries again
            log.error("dispatch pass failed", error=repr(error))
        finally:
            for outcome in await asyncio.gather(*recording, return_exceptions=True):
                if isinstance(outcome, Exception):
                    log.error("outcomes not recorded", error=repr(outcome))
            self._idle.set()

    async def dispatch_once(self) -> int:
        """Claim, decide, send and record one batch; returns its size."""
        now = self.app.clock()
        results = await self._send_batch(now)
        if results:
            await self._record(results, now)
        return len(results)

    async def _send_batch(self, now: datetime) -> list[Result]:
        claimed = await anyio.to_thread.run_sync(self.outcomes.claim, now, self.batch_size)
        if not claimed:
            return []
        context = await anyio.to_thread.run_sync(self.outcomes.context_for, claimed)
        results = await asyncio.gather(*(self._handle(m, context, now) for m in claimed))
        self.dispatched += len(claimed)
        return list(results)

    async def _handle(
        self, message: QueuedMessage, context: SendingContext, now: datetime
    ) -> Result:
        prefs = context.preferences.get(message.tenant_id) or self.app.config.defaults
        zone = recipient_zone(message.to_phone, message.zone, self.app.config.default_zone)
        decision = decide(message, now, prefs.window, zone, context.allows(message))
        if isinstance(decision, Defer):
            return Result(message, deferred_until=decision.until)
        if isinstance(decision, Skip):
            return Result(message, refused=decision.refused, skipped=decision.reason)
        return await self.delivery.deliver(message, decision, context, now)

    async def _record(self, results: Sequence[Result], now: datetime) -> None:
        """Record until it succeeds: the messages are sent, their outcome must not be lost."""
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type((IntegrityError, OperationalError, InterfaceError)),
            wait=wait_exponential(multiplier=0.05, max=5),
            stop=stop_after_attempt(50),
            reraise=True,
            before_sleep=lambda s: log.warning(
                "recording outcomes failed, retrying",
                error=repr(s.outcome.exception() if s.outcome else None),
            ),
        ):
            with attempt:
                await anyio.to_thread.run_sync(self.outcomes.record, results, now)
