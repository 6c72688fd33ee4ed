"""The KPI service over real HTTP, fed only by contract events published to the broker."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest

from slotline.analytics.settings import AnalyticsSettings
from slotline.analytics.testing.story import (
    CALLER,
    CLINIC,
    EXPECTED,
    OCTOBER,
    Story,
    at,
    october,
)
from slotline.analytics.wiring import service_spec
from slotline.events.contract.booking_requests import BookingRequested
from slotline.events.contract.calls import CallReceived
from slotline.events.contract.common import Channel, Contact
from slotline.events.contract.waitlist import PassReason, SlotFreedBy, WaitlistPassed
from slotline.events.local.infra import free_port
from slotline.events.testing.reading import eventually, read_topic
from slotline.events.testing.service import RunningService, bearer, running
from slotline.events.topics import CALLS_EVENTS, dead_letter_topic

from .publishing import publish

pytestmark = pytest.mark.integration

PERIOD = {"from": OCTOBER[0], "to": OCTOBER[1]}


def tenant() -> str:
    return f"clinic-{uuid.uuid4().hex[:8]}"


async def kpis(service: RunningService, tenant_id: str, role: str = "analyst") -> dict[str, Any]:
    response = await service.client.get("/v1/kpis", params=PERIOD, headers=bearer(role, tenant_id))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def figures(report: dict[str, Any]) -> dict[str, Any]:
    return {name: report[name] for name in EXPECTED}


async def settled(service: RunningService, tenant_id: str) -> dict[str, Any]:
    """The report once every event of the story has been applied."""
    last: dict[str, Any] = {}

    async def complete() -> bool:
        nonlocal last
        last = figures(await kpis(service, tenant_id))
        return last == EXPECTED

    try:
        await eventually(complete, timeout=30)
    except AssertionError:
        assert last == EXPECTED  # shows the difference
    return last


class TestKpisFromThePublicTopics:
    async def test_a_clinics_october_gives_every_kpi(
        self, service: RunningService, module_kafka_bootstrap: str
    ) -> None:
        clinic = tenant()
        await publish(module_kafka_bootstrap, *october(clinic))

        report = await kpis(service, clinic)

        assert figures(report) == EXPECTED or await settled(service, clinic) == EXPECTED
        report = await kpis(service, clinic)
        assert report["tenant_id"] == clinic
        assert report["period_start"] == "2026-10-01T00:00:00Z"
        assert report["period_end"] == "2026-11-01T00:00:00Z"  # 'to' is an inclusive date

    async def test_a_replayed_history_changes_no_figure(
        self, service: RunningService, module_kafka_bootstrap: str
    ) -> None:
        clinic = tenant()
        story = october(clinic)
        await publish(module_kafka_bootstrap, *story)
        await settled(service, clinic)

        await publish(module_kafka_bootstrap, *reversed(story))  # again, in any order
        marker = CallReceived(
            tenant_id=clinic,
            aggregate_id="after-replay",
            occurred_at=at(30, 9),
            call_id="after-replay",
            from_phone=CALLER,
            to_phone=CLINIC,
            provider_call_sid="x",
        )
        await publish(module_kafka_bootstrap, marker)

        async def marker_counted() -> bool:
            return bool((await kpis(service, clinic))["missed_call_rate"]["total"] == 4)

        await eventually(marker_counted, timeout=30)
        expected = {**EXPECTED, "missed_call_rate": {"count": 2, "total": 4, "rate": 0.5}}
        assert figures(await kpis(service, clinic)) == expected

    async def test_each_tenant_sees_only_its_own_figures(
        self, service: RunningService, module_kafka_bootstrap: str
    ) -> None:
        clinic, other = tenant(), tenant()
        await publish(module_kafka_bootstrap, *october(clinic))
        await settled(service, clinic)

        report = await kpis(service, other, role="manager")

        assert report["booking_conversion"] == {"all": {"count": 0, "total": 0, "rate": None}}
        assert report["missed_call_rate"]["total"] == 0

    async def test_requests_from_a_channel_count_by_their_own_id_not_by_sequence(
        self, service: RunningService, module_kafka_bootstrap: str
    ) -> None:
        """A channel cannot know a stream position: two different requests it sends on
        one aggregate id with the same sequence are two requests; the same one sent
        again (same event id) is one."""
        clinic = tenant()

        def requested(request_id: str) -> BookingRequested:
            return BookingRequested(
                tenant_id=clinic,
                aggregate_id="kiosk-7",  # the adapter's own id, the same for both
                sequence=1,
                occurred_at=at(8, 10),
                request_id=request_id,
                channel=Channel.WEB,
                contact=Contact(name="Ana", phone=CALLER),
                service_id="massage",
                location_id="kifisia",
                slot_start=at(9, 10),
            )

        first, second = requested("kiosk-r1"), requested("kiosk-r2")
        await publish(module_kafka_bootstrap, first, second, first)

        async def both_counted() -> bool:
            report = await kpis(service, clinic)
            return bool(report["booking_conversion"]["all"]["total"] == 2)

        await eventually(both_counted, timeout=30)

    async def test_a_poison_message_is_dead_lettered_and_the_next_one_counted(
        self, service: RunningService, module_kafka_bootstrap: str
    ) -> None:
        clinic = tenant()
        call = CallReceived(
            tenant_id=clinic,
            aggregate_id="c-after-poison",
            occurred_at=at(3, 9),
            call_id="c-after-poison",
            from_phone=CALLER,
            to_phone=CLINIC,
            provider_call_sid="c",
        )

        await publish(
            module_kafka_bootstrap, (CALLS_EVENTS, b'{"event_type": "CallReceived"'), call
        )

        async def counted() -> bool:
            return bool((await kpis(service, clinic))["missed_call_rate"]["total"] == 1)

        await eventually(counted, timeout=30)
        dead = await read_topic(module_kafka_bootstrap, dead_letter_topic(CALLS_EVENTS), expected=1)
        letter = json.loads(dead[0].value)
        assert letter["consumer"] == "analytics"
        assert "not JSON" in letter["reason"]


class TestRebuildingFromThePublicTopics:
    async def test_a_fresh_store_reading_the_topics_from_the_start_gives_the_same_figures(
        self, service: RunningService, module_kafka_bootstrap: str, database_url: str
    ) -> None:
        """A rebuild (docs/operations.md): an empty analytics schema and a consumer group
        with no offsets read every public topic from the first record — every fact,
        the waitlist's offers and their time-to-fill too, comes back the same."""
        clinic = tenant()
        await publish(module_kafka_bootstrap, *october(clinic))
        live = await settled(service, clinic)
        settings = AnalyticsSettings(
            database_url=database_url,
            kafka_bootstrap=module_kafka_bootstrap,
            kafka_group_id=f"analytics-rebuild-{uuid.uuid4().hex[:8]}",
            http_port=free_port(),
            relay_idle_poll_seconds=0.2,
            inbox_retry_initial_seconds=0.01,
        )
        async with running(service_spec(settings)) as rebuilt:
            assert await settled(rebuilt, clinic) == live == EXPECTED


def freed_slot(story: Story, entries: list[str], start: datetime, freed_at: datetime) -> None:
    """``start`` freed by a cancellation at ``freed_at``: offered to each entry in turn
    (5 s after the freeing, then a second after the last one passed), each passing after
    15 minutes but the last, whose offer stays open."""
    offered_at = freed_at
    for n, entry in enumerate(entries):
        offered_at += timedelta(seconds=5 if n == 0 else 1)
        story.offer(entry, f"offer-{entry}", offered_at, start, freed_at, "cancelled-one")
        if n < len(entries) - 1:
            offered_at += timedelta(minutes=15)
            story.tell(
                WaitlistPassed,
                entry,
                offered_at,
                **story.place(entry, start.day),
                booking_id=f"offer-{entry}",
                reason=PassReason.EXPIRED,
            )


def claimed(story: Story, entry: str, start: datetime, freed_at: datetime, when: datetime) -> None:
    story.claim(
        entry,
        f"offer-{entry}",
        when,
        start,
        slot_freed_at=freed_at,
        slot_freed_by=SlotFreedBy.CANCELLED,
        freed_booking_id="cancelled-one",
    )


async def waitlist_settles_on(service: RunningService, clinic: str, **expected: Any) -> None:
    """The clinic's waitlist figures named in ``expected`` become those values once
    every event is applied (they arrive on several keys, in any order)."""
    figures: dict[str, Any] = {}

    async def counted() -> bool:
        nonlocal figures
        waitlist = (await kpis(service, clinic))["waitlist"]
        figures = {name: waitlist[name] for name in expected}
        return figures == expected

    try:
        await eventually(counted, timeout=30)
    except AssertionError:
        assert figures == expected  # shows the difference


class TestWaitlistTimeToFill:
    """From the moment a booking gave a slot back to the claim of a waitlisted
    customer; an unclaimed freeing has none and counts as not filled."""

    async def test_a_cancelled_slot_offered_then_claimed_has_its_time_to_fill(
        self, service: RunningService, module_kafka_bootstrap: str
    ) -> None:
        story = Story(clinic := tenant())
        freed_at = at(10, 9)
        freed_slot(story, ["w1"], at(25, 10), freed_at)
        claimed(story, "w1", at(25, 10), freed_at, at(10, 9, 30))
        await publish(module_kafka_bootstrap, *story.messages)

        await waitlist_settles_on(
            service,
            clinic,
            time_to_fill={"samples": 1, "median_seconds": 1800.0, "p90_seconds": 1800.0},
            slots_filled={"count": 1, "total": 1, "rate": 1.0},
        )

    async def test_a_slot_passed_on_and_claimed_later_counts_from_its_freeing(
        self, service: RunningService, module_kafka_bootstrap: str
    ) -> None:
        story = Story(clinic := tenant())
        freed_at = at(10, 9)
        freed_slot(story, ["w1", "w2"], at(25, 10), freed_at)  # w2 offered at 09:15:06
        claimed(story, "w2", at(25, 10), freed_at, at(10, 9, 40))
        await publish(module_kafka_bootstrap, *story.messages)

        await waitlist_settles_on(
            service,
            clinic,
            offered=2,
            passed=1,
            claimed=1,
            # from 09:00, not from the second offer (09:15:06, which would give 1,494 s)
            time_to_fill={"samples": 1, "median_seconds": 2400.0, "p90_seconds": 2400.0},
            slots_filled={"count": 1, "total": 1, "rate": 1.0},
        )

    async def test_an_unclaimed_offer_has_no_time_to_fill_and_counts_as_not_filled(
        self, service: RunningService, module_kafka_bootstrap: str
    ) -> None:
        story = Story(clinic := tenant())
        freed_slot(story, ["w1"], at(25, 10), at(10, 9))
        claimed(story, "w1", at(25, 10), at(10, 9), at(10, 9, 10))
        freed_slot(story, ["w2", "w3"], at(25, 11), at(11, 9))  # w3's offer still open
        await publish(module_kafka_bootstrap, *story.messages)

        await waitlist_settles_on(
            service,
            clinic,
            offered=3,
            passed=1,
            time_to_fill={"samples": 1, "median_seconds": 600.0, "p90_seconds": 600.0},
            slots_filled={"count": 1, "total": 2, "rate": 0.5},
        )


class TestAskingForKpis:
    async def test_a_token_is_required(self, service: RunningService) -> None:
        response = await service.client.get("/v1/kpis")
        assert response.status_code == 401

    @pytest.mark.parametrize("role", ["channel", "front_desk", "staff"])
    async def test_only_analysts_and_managers_may_read(
        self, service: RunningService, role: str
    ) -> None:
        response = await service.client.get("/v1/kpis", headers=bearer(role, tenant()))
        assert response.status_code == 403

    async def test_owners_may_read_and_the_default_period_is_the_last_30_days(
        self, service: RunningService
    ) -> None:
        response = await service.client.get("/v1/kpis", headers=bearer("owner", tenant()))
        assert response.status_code == 200
        body = response.json()
        days = (
            _instant(body["period_end"]) - _instant(body["period_start"])
        ).total_seconds() / 86400
        assert days == 30

    @pytest.mark.parametrize(
        ("params", "field", "rule"),
        [
            ({"from": "last tuesday"}, "from", "datetime_parsing"),
            ({"from": "2026-10-10", "to": "2026-10-01"}, "to", "period_order"),
            ({"from": "2020-01-01", "to": "2026-10-01"}, "to", "period_length"),
        ],
    )
    async def test_a_bad_period_is_a_422_naming_the_field(
        self, service: RunningService, params: dict[str, str], field: str, rule: str
    ) -> None:
        response = await service.client.get(
            "/v1/kpis", params=params, headers=bearer("analyst", tenant())
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == field
        assert response.json()["errors"][0]["rule"] == rule


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)
