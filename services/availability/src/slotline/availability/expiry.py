"""The expiry job: lapsed holds are expired even when no request arrives.

A lapsed hold already counts as free to slot finding; expiring it records the fact,
publishes ``HoldExpired`` and lets the live view show the slot again. APScheduler
runs the sweep; any replica may run it (expiring twice is a no-op).
"""

from __future__ import annotations

from typing import cast

from eventsourcing.postgres import PostgresProcessRecorder

from slotline.availability.application import AvailabilityApplication
from slotline.availability.catalog_admin import UnknownItem
from slotline.availability.domain.hold import InvalidTransition
from slotline.availability.live import queries
from slotline.events.logs import get_logger
from slotline.events.periodic import PeriodicJob
from slotline.events.unit_of_work import ContentionTooHigh

log = get_logger(__name__)


class HoldExpiry(PeriodicJob):
    """Sweeps the hold view for lapsed holds on a fixed interval."""

    name = "hold-expiry"

    def __init__(
        self, app: AvailabilityApplication, *, interval_seconds: float = 1.0, batch_size: int = 200
    ) -> None:
        super().__init__(interval_seconds=interval_seconds)
        self.app = app
        self.batch_size = batch_size
        self.expired = 0

    def sweep(self) -> int:
        """Expire the holds that have lapsed by now; returns how many (blocking)."""
        recorder = cast(PostgresProcessRecorder, self.app.process_recorder)
        schema = self.app.schema
        try:
            with recorder.datastore.transaction(commit=False) as cursor:
                lapsed = queries.lapsed_holds(cursor, schema, self.app.clock(), self.batch_size)
        except Exception as error:  # the view's tables may not exist yet
            log.debug("expiry sweep skipped", error=repr(error))
            return 0
        count = 0
        for hold_id in lapsed:
            try:
                self.app.expire_hold(hold_id)
                count += 1
            except (UnknownItem, InvalidTransition, ContentionTooHigh) as error:
                log.warning("hold not expired", hold_id=str(hold_id), error=repr(error))
        self.expired += count
        return count
