"""When reminders are due, when they are too late, and the sending window."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from slotline.notifier.domain.outgoing import (
    BULK,
    PROMPT,
    Defer,
    QueuedMessage,
    Send,
    Skip,
    decide,
    without_texts,
)
from slotline.notifier.domain.reminders import ReminderKind, parse_kinds, plan
from slotline.notifier.domain.sending_window import SendingWindow, recipient_zone, zone_of_number

pytestmark = pytest.mark.unit

ATHENS = ZoneInfo("Europe/Athens")
START = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # 12:00 in Athens


class TestReminderPlans:
    def test_kinds_parse_longest_first(self) -> None:
        assert [k.name for k in parse_kinds("1h, 24h,30m,24h")] == ["24h", "1h", "30m"]

    @pytest.mark.parametrize("bad", ["0h", "24", "1w", "h"])
    def test_bad_kinds_are_refused_by_name(self, bad: str) -> None:
        with pytest.raises(ValueError, match=bad):
            ReminderKind.parse(bad)

    def test_a_booking_two_days_ahead_gets_24h_and_1h(self) -> None:
        planned, late = plan(parse_kinds("24h,1h"), START, START - timedelta(days=2))
        assert [(p.kind.name, p.due_at) for p in planned] == [
            ("24h", START - timedelta(hours=24)),
            ("1h", START - timedelta(hours=1)),
        ]
        assert late == []

    def test_a_booking_made_three_hours_ahead_skips_the_24h_reminder(self) -> None:
        planned, late = plan(parse_kinds("24h,1h"), START, START - timedelta(hours=3))
        assert [p.kind.name for p in planned] == ["1h"]
        assert [k.name for k in late] == ["24h"]

    def test_a_reminder_already_due_at_confirmation_is_not_planned(self) -> None:
        planned, late = plan(parse_kinds("24h,1h"), START, START - timedelta(minutes=50))
        assert planned == []
        assert [k.name for k in late] == ["24h", "1h"]
        planned, late = plan(parse_kinds("24h,1h"), START, START - timedelta(hours=20))
        assert [p.kind.name for p in planned] == ["1h"], "20 h ahead: the 24 h one was due"

    def test_a_late_reminder_is_useful_for_half_its_lead(self) -> None:
        kind = ReminderKind.parse("24h")
        assert kind.useful_until(START) == START - timedelta(hours=12)


class TestSendingWindow:
    def test_inside_the_window_is_now(self) -> None:
        at = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # 10:00 Athens
        assert SendingWindow().next_allowed(at, ATHENS) == at

    def test_at_night_it_is_the_next_morning_at_eight_local(self) -> None:
        at = datetime(2026, 12, 1, 20, 30, tzinfo=UTC)  # 22:30 Athens
        assert SendingWindow().next_allowed(at, ATHENS) == datetime(
            2026, 12, 2, 8, 0, tzinfo=ATHENS
        )

    def test_a_tenant_window_never_widens_beyond_eight_to_nine(self) -> None:
        window = SendingWindow(time(6, 0), time(23, 0)).clamped()
        assert (window.opens, window.closes) == (time(8, 0), time(21, 0))

    def test_the_zone_comes_from_the_number(self) -> None:
        assert zone_of_number("+306912345678") == "Europe/Athens"
        assert recipient_zone("+14155550100", "Europe/Athens").key == "America/Los_Angeles"
        assert recipient_zone(None, "Europe/Athens").key == "Europe/Athens"


def message(**changes: object) -> QueuedMessage:
    values: dict[str, object] = {
        "tenant_id": "t",
        "key": "k",
        "notification_id": "n",
        "template": "booking_reminder",
        "language": "en",
        "channels": ("sms", "email"),
        "due_at": START,
        "to_phone": "+306912345678",
        "to_email": "ana@example.com",
    }
    values.update(changes)
    return QueuedMessage(**values)  # type: ignore[arg-type]  # fields of several types, by name


class TestDecidingAboutADueMessage:
    def allow_all(self, channel: str, scope: str) -> bool:
        return True

    def test_a_due_text_in_the_window_is_sent(self) -> None:
        now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
        assert decide(message(), now, SendingWindow(), ATHENS, self.allow_all) == Send(
            ("sms", "email")
        )

    def test_a_non_urgent_text_at_night_waits_for_the_morning(self) -> None:
        now = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 03:00 Athens
        decision = decide(message(), now, SendingWindow(), ATHENS, self.allow_all)
        assert decision == Defer(datetime(2026, 12, 1, 6, 0, tzinfo=UTC))

    def test_an_urgent_text_goes_at_night(self) -> None:
        now = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
        decision = decide(message(urgent=True), now, SendingWindow(), ATHENS, self.allow_all)
        assert isinstance(decision, Send)

    def test_a_reminder_past_its_use_is_dropped_not_sent_at_3am(self) -> None:
        now = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
        late = message(useful_until=datetime(2026, 12, 1, 5, 0, tzinfo=UTC))
        assert decide(late, now, SendingWindow(), ATHENS, self.allow_all) == Skip("too_late")

    def test_an_opted_out_number_is_refused_and_email_is_the_fallback(self) -> None:
        now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
        decision = decide(
            message(), now, SendingWindow(), ATHENS, lambda channel, _: channel == "email"
        )
        assert decision == Send(("email",), (("sms", "recipient opted out"),))

    def test_over_the_text_limit_the_email_goes_alone_or_nothing_goes(self) -> None:
        refused = (("whatsapp", "opted out"),)
        assert without_texts(Send(("sms", "email"), refused), "guard") == Send(
            ("email",), (("whatsapp", "opted out"), ("sms", "guard"))
        )
        assert without_texts(Send(("sms", "whatsapp")), "guard") == Skip(
            "text_limit", (("sms", "guard"), ("whatsapp", "guard"))
        )

    def test_with_nothing_consented_it_is_skipped(self) -> None:
        now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
        decision = decide(
            message(channels=("sms",)), now, SendingWindow(), ATHENS, lambda *_: False
        )
        assert decision == Skip("no_consented_channel", (("sms", "recipient opted out"),))


class TestDispatchLanes:
    def test_reminders_go_by_the_bulk_lane_and_what_answers_an_event_by_the_prompt_lane(
        self,
    ) -> None:
        assert message(reminder_kind="24h").lane == BULK
        text_back = message(template="text_back", channels=("sms",), urgent=True)
        assert text_back.lane == PROMPT
        assert message(template="booking_confirmed").lane == PROMPT
