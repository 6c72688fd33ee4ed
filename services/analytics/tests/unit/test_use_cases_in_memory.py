"""The analytics use cases on the in-memory store: what the public topics tell is
counted by the KPIs it should change, once, whatever order it arrives in."""

from __future__ import annotations

import random
from dataclasses import asdict
from datetime import UTC, datetime
from functools import partial

import pytest
from eventsourcing.persistence import Tracking

from slotline.analytics.application import AnalyticsApplication
from slotline.analytics.domain.facts import Period
from slotline.analytics.domain.figures import Durations, Ratio
from slotline.analytics.messaging import record_facts
from slotline.analytics.testing.facts import MemoryFactBook
from slotline.analytics.testing.story import EXPECTED, Story, at, october
from slotline.events.contract.booking import BookingCancelled, BookingRejected
from slotline.events.contract.callbacks import (
    CallbackTaskClosed,
    CallbackTaskCreated,
    TaskOutcome,
)
from slotline.events.contract.common import Channel
from slotline.events.envelope import Message
from slotline.events.unit_of_work import AlreadyApplied, UnitOfWork

pytestmark = pytest.mark.unit

OCTOBER = Period(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))
NOW = datetime(2026, 11, 20, tzinfo=UTC)


@pytest.fixture
def app() -> AnalyticsApplication:
    return AnalyticsApplication(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
        facts=lambda _: MemoryFactBook(),
        clock=lambda: NOW,
    )


def consume(app: AnalyticsApplication, *messages: Message) -> None:
    """As the inbox does: each message's handler in a unit of work with its position
    (here the message's own, so that a shuffled story is no redelivery)."""
    handle = record_facts(app)
    for message in messages:
        tracking = Tracking(f"test|{message.TOPIC}|{message.event_id}", 1)
        app.command(partial(handle, message), tracking=tracking)


def figures(app: AnalyticsApplication, tenant: str = "clinic") -> dict[str, object]:
    report = asdict(app.report(tenant, OCTOBER))
    return {name: report[name] for name in EXPECTED}


def test_the_store_is_in_memory(app: AnalyticsApplication) -> None:
    assert isinstance(app.facts, MemoryFactBook)


class TestAReportCountsWhatTheTopicsTold:
    def test_a_clinics_october_gives_its_kpis(self, app: AnalyticsApplication) -> None:
        consume(app, *october("clinic"))

        assert figures(app) == EXPECTED

    @pytest.mark.parametrize("seed", [1, 2])
    def test_any_arrival_order_gives_the_same_kpis(
        self, app: AnalyticsApplication, seed: int
    ) -> None:
        story = october("clinic")
        random.Random(seed).shuffle(story)

        consume(app, *story)

        assert figures(app) == EXPECTED

    def test_another_tenants_events_count_only_for_it(self, app: AnalyticsApplication) -> None:
        consume(app, *october("clinic"), *october("salon")[:5])  # r1 booked, r2 asked

        assert figures(app) == EXPECTED
        assert app.report("salon", OCTOBER).booking_conversion["all"] == Ratio.of(1, 2)


class TestARequestsOutcome:
    def test_a_booked_request_converts_and_times_its_booking(
        self, app: AnalyticsApplication
    ) -> None:
        story = Story("clinic")
        story.request("r1", Channel.WHATSAPP, at(5, 9), at(5, 15))
        story.book("r1", "b1", Channel.WHATSAPP, at(5, 9, 1), at(5, 9, 3), at(5, 15))

        consume(app, *story.messages)

        report = app.report("clinic", OCTOBER)
        assert report.booking_conversion["whatsapp"] == Ratio.of(1, 1)
        assert report.time_to_book == Durations(1, 180.0, 180.0)

    def test_a_request_refused_before_it_reached_the_topic_counts_under_its_channel(
        self, app: AnalyticsApplication
    ) -> None:
        story = Story("clinic")
        story.tell(
            BookingRejected,
            "b1",
            at(5, 10),
            booking_id="b1",
            request_id="r1",
            reason="slot_taken",
            channel=Channel.WEB,
        )

        consume(app, *story.messages)

        assert app.report("clinic", OCTOBER).booking_conversion == {
            "all": Ratio.of(0, 1),
            "web": Ratio.of(0, 1),
        }

    def test_a_late_cancellation_counts_as_late(self, app: AnalyticsApplication) -> None:
        story = Story("clinic")
        story.book("r1", "b1", Channel.WEB, at(5, 9), at(5, 9, 1), at(6, 15))
        story.tell(
            BookingCancelled,
            "b1",
            at(6, 14),
            booking_id="b1",
            by="customer",
            within_free_window=False,
        )

        consume(app, *story.messages)

        report = app.report("clinic", OCTOBER)
        assert report.cancellation_rate == Ratio.of(1, 1)
        assert report.late_cancellation_rate == Ratio.of(1, 1)


class TestCallbacks:
    def test_a_task_closed_by_a_booking_is_within_sla_though_nobody_called(
        self, app: AnalyticsApplication
    ) -> None:
        story = Story("clinic")
        story.missed_call("c1", at(5, 8), texted_back=True)
        story.tell(
            CallbackTaskCreated,
            "t1",
            at(5, 8, 0, 31),
            task_id="t1",
            call_id="c1",
            customer_phone="+302101234567",
            deadline=at(5, 8, 15, 31),
        )
        story.tell(CallbackTaskClosed, "t1", at(5, 8, 3), task_id="t1", outcome=TaskOutcome.BOOKED)

        consume(app, *story.messages)

        report = app.report("clinic", OCTOBER)
        assert report.missed_call_rate == Ratio.of(1, 1)
        assert report.text_back_coverage == Ratio.of(1, 1)
        assert report.callbacks_within_sla == Ratio.of(1, 1)
        assert report.speed_to_lead.samples == 0  # nobody had to call


class TestRedelivery:
    def test_an_event_delivered_again_is_already_applied_and_changes_nothing(
        self, app: AnalyticsApplication
    ) -> None:
        story = october("clinic")
        consume(app, *story)

        with pytest.raises(AlreadyApplied):
            consume(app, story[0])

        assert figures(app) == EXPECTED

    def test_what_a_failed_unit_of_work_told_is_not_counted(
        self, app: AnalyticsApplication
    ) -> None:
        story = Story("clinic")
        story.request("r1", Channel.WEB, at(5, 9), at(5, 15))
        handle = record_facts(app)

        def fails(work: UnitOfWork) -> None:
            handle(story.messages[0], work)
            raise RuntimeError("the batch failed")

        with pytest.raises(RuntimeError):
            app.command(fails)

        assert app.report("clinic", OCTOBER).booking_conversion["all"] == Ratio.of(0, 0)
