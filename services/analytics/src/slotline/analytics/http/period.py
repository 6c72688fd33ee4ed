"""Reading a report's period from the query string (``from``, ``to``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from fastapi.exceptions import RequestValidationError

from slotline.analytics.domain.facts import Period


def _invalid(field: str, rule: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("query", field), "type": rule, "msg": message}])


def moment(field: str, text: str, *, end_of_day: bool = False) -> datetime:
    """An ISO date or date-time; a date means its first instant (for ``to``: the next
    day's, so a date range includes its last day); no offset means UTC."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text) + timedelta(days=1 if end_of_day else 0)
            return datetime.combine(day, time(), UTC)
        parsed = datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        raise _invalid(
            field, "datetime_parsing", "must be an ISO date (2026-12-01) or date-time"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def requested_period(
    start: str | None, end: str | None, now: datetime, *, default_days: int, max_days: int
) -> Period:
    """The period asked for: by default the ``default_days`` up to now."""
    until = moment("to", end, end_of_day=True) if end is not None else now
    try:
        since = moment("from", start) if start is not None else until - timedelta(days=default_days)
    except OverflowError:
        raise _invalid("to", "period_range", "the period would begin before the year 1") from None
    if until <= since:
        raise _invalid("to", "period_order", "must be after 'from'")
    if until - since > timedelta(days=max_days):
        raise _invalid("to", "period_length", f"a report covers at most {max_days} days")
    return Period(since, until)
