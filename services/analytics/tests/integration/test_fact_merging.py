"""Facts merge to the same rows whatever order the events arrive in, on real PostgreSQL."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from functools import partial

import pytest
from eventsourcing.persistence import Tracking

from slotline.analytics.application import AnalyticsApplication
from slotline.analytics.domain.facts import Period
from slotline.analytics.live.facts import FactTables
from slotline.analytics.messaging import record_facts
from slotline.analytics.testing.story import EXPECTED, october
from slotline.events.envelope import Message
from slotline.events.store import ensure_schema, postgres_env

pytestmark = pytest.mark.integration

OCTOBER = Period(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))
NOW = datetime(2026, 11, 20, tzinfo=UTC)


@pytest.fixture
def app(database_url: str) -> Iterator[AnalyticsApplication]:
    ensure_schema(database_url, "analytics")
    application = AnalyticsApplication(
        env=postgres_env(database_url, "analytics"), facts=FactTables.opened, clock=lambda: NOW
    )
    yield application
    application.close()


def record(app: AnalyticsApplication, messages: list[Message]) -> None:
    handle = record_facts(app)
    for n, message in enumerate(messages, start=1):
        app.command(partial(handle, message), tracking=Tracking(f"test|{n}", 1))


def figures(app: AnalyticsApplication, tenant: str) -> dict[str, object]:
    report = asdict(app.report(tenant, OCTOBER))
    return {name: report[name] for name in EXPECTED}


class TestArrivalOrder:
    @pytest.mark.parametrize("seed", [1, 2, 3])
    def test_any_order_gives_the_same_report(self, app: AnalyticsApplication, seed: int) -> None:
        story = october("clinic")
        shuffled = list(story)
        random.Random(seed).shuffle(shuffled)

        record(app, shuffled)

        assert figures(app, "clinic") == EXPECTED

    def test_an_event_applied_twice_changes_nothing(self, app: AnalyticsApplication) -> None:
        story = october("clinic")

        record(app, story + story)

        assert figures(app, "clinic") == EXPECTED
