"""Where a call goes: hours in the location's zone, holidays, skills, strategies, overflow."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from slotline.call_intake.domain.plan import CallPlan
from slotline.call_intake.domain.routing import Rotation, route_call

pytestmark = pytest.mark.unit

TUESDAY_10_ATHENS = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
TUESDAY_22_ATHENS = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)
LINE, SPANISH_LINE, OVERFLOW = "+302100000001", "+302100000002", "+302100000099"


def plan(strategy: str = "simultaneous", **changes: Any) -> CallPlan:
    data: dict[str, Any] = {
        "business_name": "Kifisia Dental",
        "time_zone": "Europe/Athens",
        "hours": [{"weekday": d, "start": "08:00", "end": "20:00"} for d in range(5)],
        "teams": [
            {
                "team_id": "desk",
                "strategy": strategy,
                "ring_timeout_seconds": 15,
                "members": [
                    {"staff_id": "maria", "phone": "+302100000011", "skills": ["spanish"]},
                    {"staff_id": "nikos", "phone": "+302100000012"},
                    {"staff_id": "anna", "phone": "+302100000013"},
                ],
            }
        ],
        "lines": [
            {"number": LINE, "team_id": "desk"},
            {"number": SPANISH_LINE, "team_id": "desk", "skill": "spanish"},
        ],
        "booking_url": "https://book.example.com/kifisia",
    }
    return CallPlan.model_validate(data | changes)


class TestBusinessHours:
    def test_in_hours_the_team_rings_together(self) -> None:
        route = route_call(plan(), LINE, TUESDAY_10_ATHENS, Rotation())
        assert [s.target for s in route.steps] == ["team:desk"]
        assert route.steps[0].numbers == ("+302100000011", "+302100000012", "+302100000013")
        assert route.steps[0].timeout_seconds == 15
        assert route.voicemail
        assert not route.after_hours

    def test_after_hours_goes_to_the_answering_service_then_voicemail(self) -> None:
        route = route_call(plan(overflow_number=OVERFLOW), LINE, TUESDAY_22_ATHENS, Rotation())
        assert [(s.target, s.strategy, s.reason) for s in route.steps] == [
            (f"number:{OVERFLOW}", "overflow", "after_hours")
        ]
        assert route.after_hours

    def test_after_hours_without_an_answering_service_is_voicemail_only(self) -> None:
        route = route_call(plan(), LINE, TUESDAY_22_ATHENS, Rotation())
        assert route.steps == ()
        assert route.voicemail

    def test_a_holiday_is_closed_all_day(self) -> None:
        route = route_call(plan(holidays=[date(2026, 12, 1)]), LINE, TUESDAY_10_ATHENS, Rotation())
        assert route.opening == "holiday"
        assert route.steps == ()

    def test_hours_are_read_in_the_locations_zone_across_dst(self) -> None:
        summer_0730_utc = datetime(2026, 7, 7, 5, 30, tzinfo=UTC)  # 08:30 in Athens (UTC+3)
        assert plan().opening(summer_0730_utc) == "open"
        winter_0630_utc = datetime(2026, 12, 1, 6, 30, tzinfo=UTC)  # 08:30 in Athens (UTC+2)
        assert plan().opening(winter_0630_utc) == "open"
        assert plan().opening(datetime(2026, 12, 1, 5, 30, tzinfo=UTC)) == "after_hours"

    def test_when_the_team_does_not_answer_the_answering_service_is_next(self) -> None:
        route = route_call(plan(overflow_number=OVERFLOW), LINE, TUESDAY_10_ATHENS, Rotation())
        assert [(s.target, s.reason) for s in route.steps] == [
            ("team:desk", "in_hours"),
            (f"number:{OVERFLOW}", "team_unanswered"),
        ]


class TestStrategiesAndSkills:
    def test_a_line_needing_a_skill_rings_only_the_skilled(self) -> None:
        route = route_call(plan(), SPANISH_LINE, TUESDAY_10_ATHENS, Rotation())
        assert route.steps[0].staff_ids == ("maria",)
        assert "skill spanish" in route.steps[0].reason

    def test_round_robin_rings_the_next_after_the_last_offered(self) -> None:
        first = route_call(plan("round_robin"), LINE, TUESDAY_10_ATHENS, Rotation())
        assert first.steps[0].staff_ids == ("maria",)
        after_maria = Rotation(last_offered="maria")
        assert route_call(plan("round_robin"), LINE, TUESDAY_10_ATHENS, after_maria).steps[
            0
        ].staff_ids == ("nikos",)
        after_anna = Rotation(last_offered="anna")
        assert route_call(plan("round_robin"), LINE, TUESDAY_10_ATHENS, after_anna).steps[
            0
        ].staff_ids == ("maria",)

    def test_longest_idle_rings_whoever_was_offered_a_call_longest_ago(self) -> None:
        rotation = Rotation(
            last_offered="nikos",
            offered_at={
                "maria": datetime(2026, 12, 1, 7, 50, tzinfo=UTC),
                "nikos": datetime(2026, 12, 1, 7, 55, tzinfo=UTC),
                "anna": datetime(2026, 12, 1, 7, 40, tzinfo=UTC),
            },
        )
        route = route_call(plan("longest_idle"), LINE, TUESDAY_10_ATHENS, rotation)
        assert route.steps[0].staff_ids == ("anna",)


class TestPlanValidation:
    def test_a_line_naming_an_unknown_team_is_refused(self) -> None:
        with pytest.raises(ValueError, match="unknown team"):
            plan(lines=[{"number": LINE, "team_id": "nobody"}])

    def test_an_unknown_time_zone_is_refused(self) -> None:
        with pytest.raises(ValueError, match="unknown time zone"):
            plan(time_zone="Mars/Olympus")

    def test_the_business_numbers_include_lines_staff_overflow_and_manager(self) -> None:
        numbers = plan(
            overflow_number=OVERFLOW,
            manager={"staff_id": "eleni", "phone": "+306900000009"},
            own_numbers=["+302100000077"],
        ).business_numbers()
        for number in (LINE, "+302100000011", OVERFLOW, "+306900000009", "+302100000077"):
            assert number in numbers
