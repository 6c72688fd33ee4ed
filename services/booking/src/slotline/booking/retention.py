"""The tenants' retention rule: customers inactive (no booking ending) for the
tenant's number of months are erased, a batch per sweep; any replica may sweep, and an
erasure done twice is harmless."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from dateutil.relativedelta import relativedelta

from slotline.booking.application import BookingApplication, UnknownBooking
from slotline.booking.application.customer_rights import CustomerRights
from slotline.booking.live import board
from slotline.events.logs import get_logger
from slotline.events.periodic import PeriodicJob

log = get_logger(__name__)


class RetentionJob(PeriodicJob):
    name = "customer-retention"

    def __init__(
        self,
        app: BookingApplication,
        months: Mapping[str, int],
        *,
        interval_seconds: float = 3600.0,
        batch_size: int = 100,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(interval_seconds=interval_seconds)
        self.app = app
        self.clock = clock or app.clock
        self.months = dict(months)
        self.batch_size = batch_size
        self.rights = CustomerRights(app)
        self.erased = 0

    def _tenants(self) -> list[str]:
        with self.app.reading() as cursor:
            return board.tenants(cursor, self.app.schema)

    def sweep(self) -> int:
        if not self.months:
            return 0
        now, count = self.clock(), 0
        for tenant in self._tenants():
            months = self.months.get(tenant, self.months.get("*"))
            if months is None:
                continue
            before = now - relativedelta(months=months)
            for customer_id in self.rights.inactive(tenant, before, self.batch_size):
                try:
                    self.rights.erase(tenant, customer_id)
                except UnknownBooking:  # a booking row whose customer record is elsewhere
                    continue
                count += 1
        if count:
            log.info("inactive customers erased", count=count)
        self.erased += count
        return count
