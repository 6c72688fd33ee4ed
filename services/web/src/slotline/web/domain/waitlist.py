"""What a customer asks of the waitlist beside their details: the day, optionally the
times that suit (from / until, local) and the staff member the page had chosen — with
the checks made before anything is sent, each problem named against its field."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

_TIME = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)(:[0-5]\d)?$")
_STAFF = re.compile(r"^[A-Za-z0-9_\-:.]{1,128}$")
RANGE_FIELDS = ("earliest", "latest")


def local_time(value: str) -> str | None:
    """``9:30``, ``09:30`` or ``09:30:00`` (a time input's forms) as ``09:30``; None when
    it is no time of day."""
    found = _TIME.match(value.strip())
    return f"{int(found.group(1)):02d}:{found.group(2)}" if found else None


@dataclass
class Wish:
    day: date
    earliest: str = ""
    latest: str = ""
    staff_id: str = ""
    errors: dict[str, str] = field(default_factory=dict)  # field → message id

    @classmethod
    def of(cls, day: date, form: Mapping[str, str]) -> Wish:
        staff = form.get("staff_id", "").strip()
        return cls(
            day=day,
            earliest=form.get("earliest", "").strip()[:8],
            latest=form.get("latest", "").strip()[:8],
            staff_id=staff if _STAFF.match(staff) else "",
        )

    @property
    def any_time(self) -> bool:
        return not self.earliest and not self.latest

    def check(self, today: date) -> bool:
        """Fill ``errors`` (times written as ``HH:MM``); True when it can be sent."""
        self.errors = {}
        if self.day < today:
            self.errors["day"] = "day_past"
        for name in RANGE_FIELDS:
            value = getattr(self, name)
            if value:
                written = local_time(value)
                if written is None:
                    self.errors[name] = "time_invalid"
                else:
                    setattr(self, name, written)
        if self.earliest and self.latest and not self.errors and self.latest < self.earliest:
            self.errors["latest"] = "range_reversed"
        return not self.errors

    def request(self) -> dict[str, str]:
        """The wish as booking's waitlist form has it (after :meth:`check`)."""
        asked = {"day": self.day.isoformat()}
        for name in RANGE_FIELDS:
            if getattr(self, name):
                asked[name] = getattr(self, name)
        if self.staff_id:
            asked["staff_id"] = self.staff_id
        return asked


def local_day(value: str | None) -> date | None:
    """A ``YYYY-MM-DD`` day; None when it is not one."""
    try:
        return datetime.strptime(value or "", "%Y-%m-%d").date()
    except ValueError:
        return None
