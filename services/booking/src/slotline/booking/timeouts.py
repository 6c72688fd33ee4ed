"""The saga's own deadline: bookings still waiting for availability or payments after
their time are expired and their holds released (the hold TTL is the last line, not
the first). Reads the pending ones from ``booking_view``; any replica may sweep."""

from __future__ import annotations

from typing import Any

from slotline.booking.application import BookingApplication
from slotline.booking.live import board
from slotline.events.logs import get_logger
from slotline.events.periodic import PeriodicJob

log = get_logger(__name__)


class SagaTimeoutJob(PeriodicJob):
    name = "saga-timeouts"

    def __init__(
        self, app: BookingApplication, *, interval_seconds: float = 1.0, batch_size: int = 200
    ) -> None:
        super().__init__(interval_seconds=interval_seconds)
        self.app = app
        self.batch_size = batch_size
        self.schema = app.schema
        self.timed_out = 0

    def sweep(self) -> int:
        now, limits = self.app.clock(), self.app.timeouts
        recorder: Any = self.app.process_recorder
        with recorder.datastore.transaction(commit=False) as cursor:
            overdue = board.overdue_sagas(
                cursor,
                self.schema,
                unanswered_before=now - limits.answer_within,
                unpaid_before=now - limits.pay_within,
                unclaimed_before=now - self.app.waitlist.offer_window,
                limit=self.batch_size,
            )
        count = sum(1 for booking_id in overdue if self.app.time_out(booking_id))
        if count:
            log.info("sagas timed out", count=count)
        self.timed_out += count
        return count
