"""The webhook sender: a background task that sends the deliveries that are due.

It claims due deliveries in the database before sending them (``FOR UPDATE SKIP
LOCKED``: replicas share the work, none sends a claimed one), as many as it has free
sending slots, sends each on its own (a slow endpoint holds one slot, not a batch) and
records each attempt as it ends. It is woken at once when the inbox makes a delivery
(and polls every ``poll_seconds`` for retries and for other replicas' deliveries).

**A crash mid-delivery** leaves a claim: after ``reclaim_after`` (longer than any
attempt may take) it is due again and sent again with the same ``webhook-id``. So a
delivery is never lost and may reach a receiver twice only when the sender died
between the receiver's answer and the record of it; receivers de-duplicate by
``webhook-id`` (Standard Webhooks), which makes it one delivery per id as they see it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import timedelta

import anyio
from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from slotline.events.logs import get_logger
from slotline.notifier.application import NotifierApplication
from slotline.notifier.persistence.webhooks import Claimed
from slotline.notifier.webhooks.sender import WebhookHttp

log = get_logger(__name__)


class WebhookDispatcher:
    name = "webhook-sender"

    def __init__(
        self,
        app: NotifierApplication,
        http: WebhookHttp,
        *,
        concurrency: int = 50,
        poll_seconds: float = 1.0,
        reclaim_after_seconds: float = 60.0,
    ) -> None:
        self.app = app
        self.http = http
        self.concurrency = concurrency
        self.poll_seconds = poll_seconds
        self.reclaim_after = timedelta(seconds=reclaim_after_seconds)
        self._stopping = asyncio.Event()
        self._woken = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()

    def stop(self) -> None:
        self._stopping.set()
        self._woken.set()

    def wake(self) -> None:
        self._woken.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()

        def wake_from_thread() -> None:
            loop.call_soon_threadsafe(self._woken.set)

        self.app.webhook_listeners.append(wake_from_thread)
        self._stopping.clear()
        next_reclaim = 0.0
        try:
            while not self._stopping.is_set():
                self._woken.clear()
                if time.monotonic() >= next_reclaim:
                    await self._reclaim()
                    next_reclaim = time.monotonic() + self.reclaim_after.total_seconds() / 2
                free = self.concurrency - len(self._in_flight)
                claimed = await self._claim(free) if free > 0 else []
                for delivery in claimed:
                    task = asyncio.create_task(self._deliver(delivery))
                    self._in_flight.add(task)
                    task.add_done_callback(self._in_flight.discard)
                if claimed and len(claimed) == free:
                    await asyncio.sleep(0)  # more may be due: claim again once a slot frees
                    if len(self._in_flight) < self.concurrency:
                        continue
                await self._wait()
        finally:
            self.app.webhook_listeners.remove(wake_from_thread)
            if self._in_flight:  # let attempts in flight end and be recorded
                await asyncio.wait(set(self._in_flight))
            await self.http.close()

    async def _wait(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._woken.wait(), self.poll_seconds)

    async def _claim(self, limit: int) -> list[Claimed]:
        try:
            return await anyio.to_thread.run_sync(self.app.claim_webhooks, limit)
        except (OperationalError, InterfaceError) as error:  # the next pass tries again
            log.warning("webhook deliveries not claimed", error=repr(error))
            return []

    async def _reclaim(self) -> None:
        """Claims a dead sender left are due again; deliveries past the log's keeping go."""
        try:
            count = await anyio.to_thread.run_sync(self.app.reclaim_webhooks, self.reclaim_after)
        except (OperationalError, InterfaceError) as error:
            log.warning("interrupted webhook deliveries not reclaimed", error=repr(error))
            return
        if count:
            log.warning("webhook deliveries interrupted mid-send, sending again", count=count)
        try:
            forgotten = await anyio.to_thread.run_sync(self.app.forget_webhook_log)
        except (OperationalError, InterfaceError) as error:
            log.warning("old webhook deliveries not deleted", error=repr(error))
            return
        if forgotten:
            log.info("old webhook deliveries deleted", count=forgotten)

    async def _deliver(self, claimed: Claimed) -> None:
        try:
            outcome = await self.http.send(claimed, self.app.webhooks.clock())
            async for attempt in AsyncRetrying(  # the attempt happened: its record must not be lost
                retry=retry_if_exception_type((IntegrityError, OperationalError, InterfaceError)),
                wait=wait_exponential(multiplier=0.05, max=5),
                stop=stop_after_attempt(50),
                reraise=True,
            ):
                with attempt:
                    await anyio.to_thread.run_sync(self.app.record_webhook_attempt, outcome)
        except Exception as error:  # its claim is reclaimed later: sent again, never lost
            log.error(
                "webhook attempt not recorded", delivery=claimed.delivery_id, error=repr(error)
            )
        finally:
            self._woken.set()  # a slot is free
