"""The notifier's use cases on the in-memory event store and rows: what a booking's life
queues, what a consumed message changes once, and consent replies — no PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from eventsourcing.persistence import IntegrityError, Tracking

from slotline.events.contract import booking as bookings
from slotline.events.envelope import Message
from slotline.notifier.application import NotifierApplication, NotifierConfig
from slotline.notifier.domain.consent import Consent, Scope
from slotline.notifier.domain.preferences import TenantPreferences
from slotline.notifier.domain.reminders import BookingReminders, parse_kinds
from slotline.notifier.domain.sending_window import SendingWindow
from slotline.notifier.messaging import handler
from slotline.notifier.persistence import queue
from slotline.notifier.persistence.rows import MemoryRows
from slotline.notifier.testing import TestClock, confirmed

pytestmark = pytest.mark.unit

TENANT = "spa"
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # 10:00 in Athens
PHONE = "+306912345678"


@pytest.fixture
def app() -> NotifierApplication:
    defaults = TenantPreferences(
        reminder_kinds=parse_kinds("24h,1h"),
        window=SendingWindow(time(8), time(21)),
        business_name="Kolonaki Spa",
    )
    return NotifierApplication(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
        config=NotifierConfig(defaults=defaults, default_zone="Europe/Athens"),
        clock=TestClock(NOW),
    )


def rows(app: NotifierApplication) -> MemoryRows:
    assert app.memory_rows is not None, "the in-memory store keeps its rows in memory"
    return app.memory_rows


def consume(app: NotifierApplication, event: Message, n: int) -> None:
    """Apply ``event`` as the inbox does: its handler in a unit of work that records its
    position ``n`` (a position recorded before fails the commit)."""
    with app.unit_of_work() as work:
        handler(app)(event, work)
        work.track(Tracking("booking.events.v1|0", n))


class TestABookingsLife:
    def test_a_confirmation_queues_its_notice_now_and_both_reminders_ahead(
        self, app: NotifierApplication
    ) -> None:
        start = NOW + timedelta(days=3)
        consume(app, confirmed(TENANT, start, booking_id="b-1"), 1)

        queued = rows(app).queued(TENANT)
        assert [(m.template, m.reminder_kind) for m in queued] == [
            ("booking_confirmed", None),
            ("booking_reminder", "24h"),
            ("booking_reminder", "1h"),
        ]
        assert queued[0].due_at == NOW
        assert [m.due_at for m in queued[1:]] == [
            start - timedelta(hours=24),
            start - timedelta(hours=1),
        ]
        assert "BEGIN:VEVENT" in (queued[0].calendar or "")
        reminders: BookingReminders = app.repository.get(BookingReminders.create_id(TENANT, "b-1"))
        assert set(reminders.pending) == {"24h", "1h"}
        assert rows(app).load_card(TENANT, "b-1") is not None

    def test_the_same_message_delivered_again_changes_nothing(
        self, app: NotifierApplication
    ) -> None:
        event = confirmed(TENANT, NOW + timedelta(days=3), booking_id="b-2")
        consume(app, event, 1)
        before = rows(app).queued(TENANT)

        with pytest.raises(IntegrityError):
            consume(app, event, 1)

        assert rows(app).queued(TENANT) == before

    def test_a_cancellation_skips_the_waiting_reminders_and_sends_its_notice(
        self, app: NotifierApplication
    ) -> None:
        event = confirmed(TENANT, NOW + timedelta(days=3), booking_id="b-3")
        consume(app, event, 1)
        cancelled = bookings.BookingCancelled(
            tenant_id=TENANT,
            aggregate_id="b-3",
            booking_id="b-3",
            by=bookings.Actor.CUSTOMER,
            within_free_window=True,
        )

        consume(app, cancelled, 2)

        skipped = rows(app).queued(TENANT, state=queue.SKIPPED)
        # both reminders, and the confirmation no dispatcher has sent yet here
        assert sorted(m.reminder_kind or m.template for m in skipped) == [
            "1h",
            "24h",
            "booking_confirmed",
        ]
        waiting = [m.template for m in rows(app).queued(TENANT)]
        assert "booking_cancelled" in waiting
        assert "booking_reminder" not in waiting
        reminders: BookingReminders = app.repository.get(BookingReminders.create_id(TENANT, "b-3"))
        assert reminders.pending == {}

    def test_a_use_case_that_fails_leaves_no_rows_behind(self, app: NotifierApplication) -> None:
        event = confirmed(TENANT, NOW + timedelta(days=3), booking_id="b-4")
        consume(app, event, 1)
        before = rows(app).queued(TENANT)
        broken = event.model_copy(update={"booking_id": "b-5", "aggregate_id": "b-5"})

        with pytest.raises(IntegrityError):  # another message at a position already recorded
            consume(app, broken, 1)

        assert rows(app).queued(TENANT) == before
        assert rows(app).load_card(TENANT, "b-5") is None


class TestConsentReplies:
    def test_stop_opts_out_once_and_is_confirmed_once(self, app: NotifierApplication) -> None:
        app.text_received(TENANT, PHONE, "+302100000001", "STOP", "SM-1")
        app.text_received(TENANT, PHONE, "+302100000001", "STOP", "SM-2")
        app.text_received(TENANT, PHONE, "+302100000001", "STOP", "SM-2")  # webhook retried

        consent: Consent = app.repository.get(Consent.create_id(TENANT, PHONE))
        assert not consent.allows(Scope.TRANSACTIONAL)
        replies = rows(app).queued(TENANT)
        assert [(m.template, m.to_phone, m.consent_exempt) for m in replies] == [
            ("consent_opted_out", PHONE, True)
        ]
