"""Whether a missed caller is texted: once per window, never opted out, landline or own."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from slotline.call_intake.domain.textback import (
    HoldUntil,
    LineType,
    SendNow,
    Skip,
    TextBackContext,
    decide_text_back,
)
from slotline.call_intake.telephony.lines import NumberingPlanLookup, caller_zone

pytestmark = pytest.mark.unit

ATHENS = ZoneInfo("Europe/Athens")
NOON = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # 12:00 in Athens
CONTEXT = TextBackContext(
    caller_phone="+306912345678",
    business_numbers=frozenset({"+302100000001"}),
    enabled=True,
    opted_out=False,
    last_text_back_at=None,
    window=timedelta(minutes=20),
    line_type=LineType.MOBILE,
    caller_zone=ATHENS,
    hold_in_quiet_hours=True,
)


class TestTextBackRule:
    def test_a_mobile_caller_in_the_day_is_texted_now(self) -> None:
        assert decide_text_back(CONTEXT, NOON) == SendNow()

    def test_once_per_caller_per_window(self) -> None:
        texted = replace(CONTEXT, last_text_back_at=NOON - timedelta(minutes=19))
        assert decide_text_back(texted, NOON) == Skip("already_texted_in_window")
        long_ago = replace(CONTEXT, last_text_back_at=NOON - timedelta(minutes=20))
        assert decide_text_back(long_ago, NOON) == SendNow()

    def test_never_to_an_opted_out_number_a_landline_or_the_business(self) -> None:
        assert decide_text_back(replace(CONTEXT, opted_out=True), NOON) == Skip("opted_out")
        landline = replace(CONTEXT, line_type=LineType.LANDLINE)
        assert decide_text_back(landline, NOON) == Skip("landline")
        own = replace(CONTEXT, caller_phone="+302100000001")
        assert decide_text_back(own, NOON) == Skip("business_number")

    def test_quiet_hours_hold_the_text_until_eight_in_the_callers_zone(self) -> None:
        late = datetime(2026, 12, 1, 20, 30, tzinfo=UTC)  # 22:30 in Athens
        assert decide_text_back(CONTEXT, late) == HoldUntil(
            datetime(2026, 12, 2, 8, 0, tzinfo=ATHENS)
        )
        early = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)  # 06:00 in Athens
        assert decide_text_back(CONTEXT, early) == HoldUntil(
            datetime(2026, 12, 1, 8, 0, tzinfo=ATHENS)
        )
        sends = replace(CONTEXT, hold_in_quiet_hours=False)
        assert decide_text_back(sends, late) == SendNow()


class TestLocalLineTypeLookup:
    def test_numbers_are_classified_from_the_numbering_plan(self) -> None:
        lookup = NumberingPlanLookup()
        assert lookup.line_type("+306912345678") is LineType.MOBILE
        assert lookup.line_type("+302101234567") is LineType.LANDLINE
        assert lookup.line_type("+447911123456") is LineType.MOBILE
        assert lookup.line_type("+442071234567") is LineType.LANDLINE

    def test_overrides_win(self) -> None:
        lookup = NumberingPlanLookup(landlines=["+306912345678"])
        assert lookup.line_type("+306912345678") is LineType.LANDLINE

    def test_the_callers_zone_comes_from_their_number(self) -> None:
        assert caller_zone("+442071234567", ATHENS) == ZoneInfo("Europe/London")
        assert caller_zone("+306912345678", ZoneInfo("UTC")) == ATHENS
