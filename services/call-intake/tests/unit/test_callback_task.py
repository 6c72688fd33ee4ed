"""A callback task's SLA clock, attempts with their retry schedule, and closing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from slotline.call_intake.domain.callback import Attempt, CallbackTask, Closure, TaskRefused
from slotline.call_intake.domain.intent import BookingIntent, parse_intent

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
RETRIES = (timedelta(minutes=10), timedelta(hours=1))


def task() -> CallbackTask:
    return CallbackTask(
        tenant_id="t",
        cause="call:1",
        customer_phone="+306912345678",
        source="missed_call",
        created_at=NOW,
        deadline=NOW + timedelta(minutes=15),
    )


class TestSlaClock:
    def test_nothing_is_due_before_the_warning(self) -> None:
        assert task().escalations_due(NOW + timedelta(minutes=9), timedelta(minutes=5)) == []

    def test_a_warning_then_a_breach_each_once(self) -> None:
        t = task()
        warn = timedelta(minutes=5)
        assert t.escalations_due(NOW + timedelta(minutes=10), warn) == [False]
        t.escalate(False, "eleni", NOW + timedelta(minutes=10))
        assert t.escalations_due(NOW + timedelta(minutes=11), warn) == []
        assert t.escalations_due(NOW + timedelta(minutes=15), warn) == [True]
        t.escalate(True, "eleni", NOW + timedelta(minutes=15))
        assert t.escalations_due(NOW + timedelta(hours=2), warn) == []

    def test_a_late_sweep_reports_only_the_breach(self) -> None:
        assert task().escalations_due(NOW + timedelta(minutes=30), timedelta(minutes=5)) == [True]

    def test_a_closed_task_is_never_escalated(self) -> None:
        t = task()
        t.close(Closure.BOOKED, NOW, "bk-1")
        assert t.escalations_due(NOW + timedelta(hours=1), timedelta(minutes=5)) == []


class TestAttempts:
    def test_no_answer_schedules_the_next_attempt(self) -> None:
        t = task()
        t.record_attempt("maria", Attempt.NO_ANSWER, NOW, RETRIES)
        assert t.next_attempt_at == NOW + timedelta(minutes=10)
        assert t.first_response_at == NOW
        assert t.is_open

    def test_reached_closes_the_task(self) -> None:
        t = task()
        t.record_attempt("maria", Attempt.REACHED, NOW, RETRIES)
        assert t.closed == "reached"

    def test_the_schedule_running_out_gives_up(self) -> None:
        t = task()
        for _ in range(3):
            t.record_attempt("maria", Attempt.LEFT_MESSAGE, NOW, RETRIES)
        assert t.closed == "gave_up"
        with pytest.raises(TaskRefused):
            t.record_attempt("maria", Attempt.REACHED, NOW, RETRIES)

    def test_a_claimed_task_cannot_be_taken_by_someone_else(self) -> None:
        t = task()
        t.claim("maria")
        t.claim("maria")
        with pytest.raises(TaskRefused, match="claimed by maria"):
            t.claim("nikos")


class TestBookingIntent:
    def test_the_marker_of_a_link_parses_back(self) -> None:
        intent = BookingIntent(
            "svc-1", "loc-1", datetime(2026, 12, 7, 10, 0, tzinfo=UTC), call_id="c-1"
        )
        assert parse_intent(f"Hi, I'd like to book {intent.marker()}") == intent
        assert "wa.me/302100000001?text=" in intent.whatsapp_link("+302100000001")

    @pytest.mark.parametrize(
        "text",
        [
            "hello",
            "#book service=s location=l",
            "#book service=s location=l slot=tomorrow",
            "#book service=s location=l slot=2026-12-07T10:00:00",
        ],
    )
    def test_an_incomplete_or_naive_marker_is_no_intent(self, text: str) -> None:
        assert parse_intent(text) is None
