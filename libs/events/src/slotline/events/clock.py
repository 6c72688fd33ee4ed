"""The one wall clock: every service takes a ``Clock`` so tests can pass their own."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any
from zoneinfo import available_timezones

from pydantic import AwareDatetime, BeforeValidator
from pydantic.config import JsonDict

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """Now, timezone-aware in UTC (never a naive datetime)."""
    return datetime.now(UTC)


def in_utc(value: datetime) -> datetime:
    """``value`` in UTC; a ValueError (a validation error, so a dead letter, never a
    crash) for an instant on the edge of year 1 or 9999 that UTC puts out of range."""
    try:
        return value.astimezone(UTC)
    except OverflowError as error:
        raise ValueError("out of range once in UTC (years 1 to 9999)") from error


IANA_ZONE: JsonDict = {"enum": list(sorted(available_timezones()))}
"""JSON Schema of a time zone name the services accept (``Field(json_schema_extra=…)``):
one of the IANA zones this machine knows, as ``ZoneInfo`` would find them."""


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_only(value: Any) -> Any:
    if isinstance(value, int | float) or (isinstance(value, str) and not _ISO_DATE.match(value)):
        raise ValueError("must be ISO 8601, e.g. 2026-12-01 or 2026-12-01T09:00:00Z")
    return value


Instant = Annotated[datetime, BeforeValidator(_iso_only)]
"""A date-time, as its document says (``format: date-time``): ISO 8601 only, never a
number of seconds since 1970 (which pydantic would read)."""

AwareInstant = Annotated[AwareDatetime, BeforeValidator(_iso_only)]
"""An ``Instant`` that carries its UTC offset (a naive one is refused, ``timezone_aware``)."""

Day = Annotated[date, BeforeValidator(_iso_only)]
"""A date, as its document says (``format: date``): ISO 8601 only, never a number."""
