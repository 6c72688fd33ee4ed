"""The dispatcher: background jobs that send what the queue says is due.

Two lanes (:data:`~slotline.notifier.domain.outgoing.PROMPT` and ``BULK``): the prompt
lane sends what answers something that has just happened — text-backs, confirmations,
consent replies, escalations — and the bulk lane the reminders, which fall due in
bursts. Each lane has its own APScheduler job, its own claims and its own sending slots,
so a text-back queued in the middle of 10,000 due reminders is claimed at once and sent
beside them, not after them.

A lane polls on an interval (and is woken at once when a use case queues something).
It claims a batch in the database before sending — so a message is never sent by two
replicas — decides per message (send, defer to the sending window, skip as too late),
sends with at most its lane's concurrency, and records the batch's outcomes in one
transaction. The next batch is claimed while one is sending, so the slots never wait
for a batch's slowest send. Reminders are rows, so a restart or a long downtime loses
none: whatever is due is sent on the first pass, unless it is too late.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import anyio
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from slotline.events.logs import get_logger
from slotline.events.rate_limits import storage_of
from slotline.events.text_limits import TextLimits
from slotline.notifier.application import NotifierApplication
from slotline.notifier.domain.outgoing import (
    BULK,
    PROMPT,
    TEXT_CHANNELS,
    Defer,
    QueuedMessage,
    Send,
    Skip,
    decide,
    without_texts,
)
from slotline.notifier.domain.sending_window import recipient_zone
from slotline.notifier.outcomes import Outcomes, Result, SendingContext
from slotline.notifier.sending import Delivery

log = get_logger(__name__)

BATCHES_IN_FLIGHT = 2
"""Per lane: one batch sending while the next one, claimed, waits for free slots."""


@dataclass
class Lane:
    """One stream of due messages: its claims, its sending slots, its pass."""

    name: str
    batch_size: int
    concurrency: int
    woken: bool = False
    idle: asyncio.Event = field(default_factory=asyncio.Event)
    slots: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self.slots = asyncio.Semaphore(self.concurrency)
        self.idle.set()


class Dispatcher:
    name = "dispatcher"

    def __init__(
        self,
        app: NotifierApplication,
        delivery: Delivery,
        *,
        interval_seconds: float = 1.0,
        batch_size: int = 500,
        concurrency: int = 200,
        prompt_concurrency: int = 50,
        interrupted_after_seconds: float = 300.0,
        text_limits: TextLimits | None = None,
    ) -> None:
        self.app = app
        self.text_limits = text_limits
        self._limit_storage = storage_of(app) if text_limits is not None else None
        self.outcomes = Outcomes(app)
        self.delivery = delivery
        self.interval_seconds = interval_seconds
        self.lanes = (
            Lane(PROMPT, batch_size, prompt_concurrency),
            Lane(BULK, batch_size, concurrency),
        )
        self.interrupted_after = timedelta(seconds=interrupted_after_seconds)
        self._stopping = asyncio.Event()
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
        for lane in self.lanes:
            scheduler.add_job(
                self._pass,
                "interval",
                args=(lane,),
                seconds=self.interval_seconds,
                max_instances=1,
                coalesce=True,
                id=self._job(lane),
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
            for lane in self.lanes:  # let the batches in flight finish and be recorded
                await lane.idle.wait()

    def stop(self) -> None:
        self._stopping.set()

    def _job(self, lane: Lane) -> str:
        return f"{self.name}-{lane.name}"

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
        """Run a pass of every lane now (or right after the one running)."""
        for lane in self.lanes:
            lane.woken = True
            if lane.idle.is_set() and self._scheduler is not None and not self._stopping.is_set():
                self._scheduler.modify_job(self._job(lane), next_run_time=datetime.now(UTC))

    async def _pass(self, lane: Lane) -> None:
        """Batches of ``lane`` until nothing is due; the next batch is claimed while one
        sends (at most :data:`BATCHES_IN_FLIGHT`), each recorded once sent."""
        lane.idle.clear()
        in_flight: set[asyncio.Task[None]] = set()
        try:
            while not self._stopping.is_set():
                lane.woken = False
                now = self.app.clock()
                claimed = await anyio.to_thread.run_sync(
                    self.outcomes.claim, now, lane.batch_size, lane.name
                )
                if claimed:
                    in_flight.add(asyncio.create_task(self._send_and_record(lane, claimed, now)))
                    while len(in_flight) >= BATCHES_IN_FLIGHT:
                        done, _ = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                        in_flight -= done
                        self._report(done)
                if len(claimed) < lane.batch_size and not lane.woken:
                    break
        except Exception as error:  # the next interval tries again
            log.error("dispatch pass failed", lane=lane.name, error=repr(error))
        finally:
            if in_flight:
                done, _ = await asyncio.wait(in_flight)
                self._report(done)
            lane.idle.set()

    @staticmethod
    def _report(done: set[asyncio.Task[None]]) -> None:
        for task in done:
            if task.exception() is not None:
                log.error("batch not dispatched", error=repr(task.exception()))

    async def _send_and_record(
        self, lane: Lane, claimed: Sequence[QueuedMessage], now: datetime
    ) -> None:
        context = await anyio.to_thread.run_sync(self.outcomes.context_for, claimed)
        results = await asyncio.gather(*(self._handle(lane, m, context, now) for m in claimed))
        await self._record(results, now)

    async def _handle(
        self, lane: Lane, message: QueuedMessage, context: SendingContext, now: datetime
    ) -> Result:
        prefs = context.preferences.get(message.tenant_id) or self.app.config.defaults
        zone = recipient_zone(message.to_phone, message.zone, self.app.config.default_zone)
        decision = decide(message, now, prefs.window, zone, context.allows(message))
        if isinstance(decision, Defer):
            return Result(message, deferred_until=decision.until)
        if isinstance(decision, Skip):
            return Result(message, refused=decision.refused, skipped=decision.reason)
        decision = await self._within_text_limits(message, decision)
        if isinstance(decision, Skip):
            return Result(message, refused=decision.refused, skipped=decision.reason)
        async with lane.slots:
            return await self.delivery.deliver(message, decision, context, now)

    async def _within_text_limits(self, message: QueuedMessage, decision: Send) -> Send | Skip:
        """Counts a message that may go by text against the SMS-pumping guard, just
        before sending (a deferred one counts when it is sent, not each time it waits)."""
        limits, storage = self.text_limits, self._limit_storage
        if limits is None or storage is None or message.consent_exempt or not message.to_phone:
            return decision
        if not TEXT_CHANNELS.intersection(decision.channels):
            return decision
        refused = await anyio.to_thread.run_sync(
            limits.refusal, storage, message.tenant_id, message.to_phone
        )
        if refused is None:
            return decision
        why = f"SMS-pumping guard: more than {limits.limit_of(refused)} ({refused})"
        return without_texts(decision, why)

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
