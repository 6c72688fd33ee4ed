"""Rules between fields that JSON Schema cannot state, taught to schemathesis.

A JSON Schema says what each value may be, not how two values relate: that an end is
after its start, that a report's period is at most so long. The documents state those
rules in words (the fields' descriptions) and the services answer a request that breaks
one with a 422 naming the rule. This module, loaded as schemathesis' hooks
(``SCHEMATHESIS_HOOKS``), leaves such requests out of what it generates — every other
check, and every rule a schema can state, stays with the document.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

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


RULES: dict[tuple[str, str], Callable[[Any], bool]] = {
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
