"""Rules between fields that JSON Schema cannot state, taught to schemathesis.

A JSON Schema says what each value may be, not how two values relate: that an end is
after its start, that a report's period is at most so long, that a request names a phone
or an e-mail (that one it can: ``anyOf``; not which of the two a query carries) — nor
which phone numbers a country's numbering plan assigns. The documents state those
rules in words (the fields' descriptions) and the services answer a request that breaks
one with a 422 naming the rule. This module, loaded as schemathesis' hooks
(``SCHEMATHESIS_HOOKS``), leaves such requests out of what it generates — every other
check, and every rule a schema can state, stays with the document.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any

import phonenumbers
import schemathesis

MAX_REPORT_DAYS = 366
"""The analytics default (``SLOTLINE_MAX_REPORT_DAYS``); periods are 30 days by default."""


def _moment(text: Any, *, end_of_day: bool = False) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text) + timedelta(days=1 if end_of_day else 0)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        parsed = datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def report_period(case: Any) -> bool:
    """``to`` is after ``from`` and a report covers at most MAX_REPORT_DAYS (analytics)."""
    query = case.query or {}
    now = datetime.now(UTC)
    until = _moment(query["to"], end_of_day=True) if query.get("to") else now
    if until is None:
        return True  # not a moment: the schema's own business
    try:
        since = _moment(query["from"]) if query.get("from") else until - timedelta(days=30)
    except OverflowError:
        return False
    if since is None:
        return True
    return since < until and until - since <= timedelta(days=MAX_REPORT_DAYS)


def quiet_hours_overnight(case: Any) -> bool:
    """Quiet hours run overnight: given both, the end is before the start (notifier)."""
    body = case.body if isinstance(case.body, dict) else {}
    start, end = body.get("quiet_hours_start"), body.get("quiet_hours_end")
    return not (isinstance(start, str) and isinstance(end, str) and end >= start)


def call_plan_consistent(case: Any) -> bool:
    """Opening hours end after they start; team ids are unique; lines name a team
    (call-intake's CallPlan)."""
    body = case.body if isinstance(case.body, dict) else {}
    hours = [h for h in body.get("hours") or [] if isinstance(h, dict)]
    if any(str(h.get("end", "")) <= str(h.get("start", "")) for h in hours):
        return False
    teams = [t.get("team_id") for t in body.get("teams") or [] if isinstance(t, dict)]
    if len(set(map(str, teams))) != len(teams):
        return False
    lines = [line for line in body.get("lines") or [] if isinstance(line, dict)]
    return all(line.get("team_id") in teams for line in lines)


def _items(value: Any) -> list[dict[str, Any]]:
    """The objects of a list; nothing when it is not one (the schema's own business)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _ranges_ordered(ranges: list[dict[str, Any]]) -> bool:
    """Hours ``[start, end)`` end after they start and do not overlap (zero-padded
    ``HH:MM`` compares as text in clock order, ``24:00`` last)."""
    spans = sorted((str(r.get("start", "")), str(r.get("end", ""))) for r in ranges)
    if any(end <= start for start, end in spans):
        return False
    return all(later[0] >= earlier[1] for earlier, later in pairwise(spans))


def _time_off_ordered(span: Any) -> bool:
    if not isinstance(span, dict):
        return True
    start, end = _moment(span.get("start")), _moment(span.get("end"))
    return start is None or end is None or end > start


def override_consistent(case: Any) -> bool:
    """An override's ranges end after they start and do not overlap (availability)."""
    body = case.body if isinstance(case.body, dict) else {}
    return _ranges_ordered(_items(body.get("ranges")))


def time_off_ordered(case: Any) -> bool:
    """Time off ends after it starts (availability)."""
    return _time_off_ordered(case.body)


def _weekday(hours: dict[str, Any]) -> Any:
    day = hours.get("weekday")
    if isinstance(day, int | float) and not isinstance(day, bool):
        return day  # 1 and 1.0 are one day
    return str(day)


def schedule_consistent(case: Any) -> bool:
    """A schedule's weekly ranges end after they start and do not overlap on a weekday,
    each date has at most one override, whose ranges are consistent, and its time off
    ends after it starts (availability: a resource and its schedule)."""
    body = case.body if isinstance(case.body, dict) else {}
    weekly = _items(body.get("weekly"))
    for weekday in {_weekday(r) for r in weekly}:
        if not _ranges_ordered([r for r in weekly if _weekday(r) == weekday]):
            return False
    overrides = _items(body.get("overrides"))
    days = [str(o.get("day")) for o in overrides]
    if len(set(days)) != len(days):
        return False
    if not all(_ranges_ordered(_items(o.get("ranges"))) for o in overrides):
        return False
    return all(_time_off_ordered(span) for span in _items(body.get("time_off")))


def _international_phone(raw: Any) -> bool:
    """Blank, or a number with its country code that its numbering plan knows (what
    ``phonenumbers`` says, as the service asks it). A national number is read in the
    location's country, which a generated request does not name: left out."""
    if not isinstance(raw, str) or not raw.strip():
        return True
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    if not text.startswith("+"):
        return False
    try:
        return bool(phonenumbers.is_valid_number(phonenumbers.parse(text, None)))
    except phonenumbers.NumberParseException:
        return False


def booking_contact(case: Any) -> bool:
    """A booking request's phone is a valid number (booking: the staff and public forms,
    and the waiting list's, which takes the same contact)."""
    body = case.body if isinstance(case.body, dict) else {}
    return _international_phone(body.get("phone"))


def customer_lookup(case: Any) -> bool:
    """A customer is looked up by a phone number or an e-mail address; the phone is a
    valid number with its country code (booking)."""
    query = case.query or {}
    phone, email = query.get("phone"), query.get("email")
    if not isinstance(phone, str | None) or not isinstance(email, str | None):
        return True  # not text: the schema's own business
    if not phone and not email:
        return False
    if phone and not (phone.strip() and _international_phone(phone)):
        return False  # a lookup reads a given phone as it is, blank or not
    return not email or bool(email.strip())


def policy_consistent(case: Any) -> bool:
    """A prepayment has a price; a deposit is a fixed amount or a percentage, and a
    percentage needs a price (booking's tier policy)."""
    body = case.body if isinstance(case.body, dict) else {}
    payment = body.get("payment", "none")
    price = body.get("price_minor")
    if payment == "prepayment" and price is None:
        return False
    if payment == "deposit":
        fixed, percent = body.get("deposit_minor"), body.get("deposit_percent")
        if (fixed is None) == (percent is None):
            return False
        if percent is not None and price is None:
            return False
    return True


RULES: dict[tuple[str, str], Callable[[Any], bool]] = {
    ("POST", "/v1/bookings"): booking_contact,
    ("POST", "/v1/public/{tenant_id}/bookings"): booking_contact,
    ("POST", "/v1/public/{tenant_id}/waitlist"): booking_contact,  # the same contact form
    ("GET", "/v1/customers"): customer_lookup,
    ("PUT", "/v1/policies/{tier}"): policy_consistent,
    ("POST", "/v1/locations/{location_id}/resources"): schedule_consistent,
    ("PUT", "/v1/resources/{resource_id}/schedule"): schedule_consistent,
    ("POST", "/v1/resources/{resource_id}/overrides"): override_consistent,
    ("POST", "/v1/resources/{resource_id}/time-off"): time_off_ordered,
    ("GET", "/v1/kpis"): report_period,
    ("GET", "/dashboard"): report_period,
    ("PUT", "/preferences"): quiet_hours_overnight,
    ("PUT", "/v1/call-plan"): call_plan_consistent,
}
"""(method, path template) → whether a generated request keeps the rules between fields."""


@schemathesis.hook
def filter_case(context: Any, case: Any) -> bool:
    rule = RULES.get((case.method.upper(), case.operation.path))
    return rule is None or rule(case)
