"""What the notifier remembers of a booking: enough to word notices and build .ics files.

Only ``BookingConfirmed`` carries the details; later booking events carry ids and the
change, so the card is kept and updated here. Its ``sequence`` is the calendar
SEQUENCE: it goes up with each change, so calendar apps replace the old entry.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

ACTIVE = "confirmed"
CANCELLED = "cancelled"


@dataclass(frozen=True)
class BookingCard:
    tenant_id: str
    booking_id: str
    reference: str
    customer_name: str
    phone: str | None
    email: str | None
    language: str
    transactional_consent: bool
    marketing_consent: bool
    service_name: str
    location_name: str | None
    address: str | None
    time_zone: str
    starts_at: datetime
    ends_at: datetime
    resource_ids: tuple[str, ...]
    price: str | None = None
    paid: str | None = None
    free_cancellation_until: datetime | None = None
    manage_url: str | None = None
    via_whatsapp: bool = False
    status: str = ACTIVE
    sequence: int = 0
    generation: int = 0
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def moved(
        self, starts_at: datetime, ends_at: datetime, resources: tuple[str, ...]
    ) -> BookingCard:
        return replace(
            self,
            starts_at=starts_at,
            ends_at=ends_at,
            resource_ids=resources,
            sequence=self.sequence + 1,
            generation=self.generation + 1,
        )

    def cancelled(self) -> BookingCard:
        return replace(self, status=CANCELLED, sequence=self.sequence + 1)

    def template_variables(self) -> dict[str, str]:
        """The card as template variables, times in the location's local time."""
        local_start = self.starts_at.astimezone(self.zone)
        local_end = self.ends_at.astimezone(self.zone)
        variables = {
            "booking_id": self.booking_id,
            "reference": self.reference,
            "customer_name": self.customer_name,
            "service_name": self.service_name,
            "location_name": self.location_name or "",
            "address": self.address or "",
            "time_zone": self.time_zone,
            "date": local_start.strftime("%Y-%m-%d"),
            "start_time": local_start.strftime("%H:%M"),
            "end_time": local_end.strftime("%H:%M"),
            "price": self.price or "",
            "paid": self.paid or "",
            "manage_url": self.manage_url or "",
            "free_cancellation_until": (
                self.free_cancellation_until.astimezone(self.zone).strftime("%Y-%m-%d %H:%M")
                if self.free_cancellation_until
                else ""
            ),
        }
        return {**variables, **self.extra}

    def to_row(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("starts_at", "ends_at", "free_cancellation_until"):
            value = data[key]
            data[key] = value.isoformat() if value else None
        data["resource_ids"] = list(self.resource_ids)
        return data

    @classmethod
    def from_row(cls, data: dict[str, Any]) -> BookingCard:
        values = dict(data)
        for key in ("starts_at", "ends_at", "free_cancellation_until"):
            if values.get(key):
                values[key] = datetime.fromisoformat(values[key])
        values["resource_ids"] = tuple(values["resource_ids"])
        return cls(**values)


def money_text(amount_minor: int, currency: str) -> str:
    """``2500 EUR`` → ``25.00 EUR`` (minor units are cents for the currencies we show)."""
    return f"{amount_minor // 100}.{amount_minor % 100:02d} {currency}"
