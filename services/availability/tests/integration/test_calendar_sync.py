"""Two-way calendar sync on the real stack: the whole availability service (PostgreSQL,
Kafka-protocol broker) against a real CalDAV server (Radicale, started here).

Pull: an event created in the linked calendar blocks the resource's slots within the
sync interval, and its deletion frees them. Push: a confirmed booking appears in the
calendar once (however often delivered), moves with a rising SEQUENCE, and goes when
cancelled. A failing link is retried, shown unhealthy (link, /readyz, /metrics), and
recovers; its password is never answered.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import anyio
import httpx
import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from slotline.availability import demo
from slotline.availability.application import AvailabilityApplication
from slotline.availability.calendar_sync.caldav_gateway import CalDavGateway
from slotline.availability.calendar_sync.credentials import DEVELOPMENT_KEY, CredentialBox
from slotline.availability.calendar_sync.health import open_tables
from slotline.availability.calendar_sync.jobs import (
    CalendarMetrics,
    CalendarPull,
    CalendarPush,
    SyncPolicy,
)
from slotline.availability.calendar_sync.links import CalendarLinks
from slotline.availability.calendar_sync.microsoft import MicrosoftCalendarGateway
from slotline.availability.calendar_sync.microsoft_simulator import (
    CLIENT_ID,
    CLIENT_SECRET,
    MicrosoftGraphSimulator,
)
from slotline.availability.calendar_sync.oauth import MICROSOFT_SCOPE, OAuthClient, OAuthGrant
from slotline.availability.calendar_sync.port import CalendarAccess
from slotline.availability.calendar_sync.radicale import PASSWORD, USER, Radicale
from slotline.availability.calendar_sync.store import LinkRow, LinkStore, PushRow
from slotline.availability.calendar_sync.tables import make_tables
from slotline.availability.domain.calendar_sync import Pulled, booking_uid
from slotline.availability.domain.values import Interval
from slotline.availability.settings import AvailabilitySettings
from slotline.availability.wiring import service_spec
from slotline.events.contract.booking import (
    Actor,
    BookingCancelled,
    BookingConfirmed,
    BookingRescheduled,
)
from slotline.events.contract.common import Consents, Contact, TimeSlot
from slotline.events.local.infra import free_port
from slotline.events.store import ensure_schema, postgres_env
from slotline.events.testing.reading import eventually
from slotline.events.testing.service import RunningService, bearer, running
from slotline.events.topics import BOOKING_EVENTS

pytestmark = pytest.mark.integration

ATHENS = ZoneInfo("Europe/Athens")


@pytest.fixture(scope="module")
async def radicale(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Radicale]:
    server = Radicale(tmp_path_factory.mktemp("radicale"))
    try:
        await eventually(server.answers, timeout=30)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
async def service(
    module_database_url: str, module_kafka_bootstrap: str
) -> AsyncIterator[RunningService]:
    settings = AvailabilitySettings(
        database_url=module_database_url,
        kafka_bootstrap=module_kafka_bootstrap,
        http_port=free_port(),
        relay_idle_poll_seconds=0.2,
        calendar_sync_interval_seconds=0.5,  # short, for tests
        calendar_push_interval_seconds=0.2,
        calendar_retry_ceiling_seconds=2.0,
        calendar_timeout_seconds=5.0,
        calendar_allow_private_addresses=True,  # Radicale listens on loopback
    )
    async with running(service_spec(settings)) as running_service:
        yield running_service


def application(service: RunningService) -> AvailabilityApplication:
    app = service.runtime.application
    assert isinstance(app, AvailabilityApplication)
    return app


async def clinic_of(service: RunningService) -> demo.Clinic:
    tenant = f"cal-{uuid.uuid4().hex[:8]}"
    return await anyio.to_thread.run_sync(
        lambda: demo.open_clinic(
            application(service), tenant, staff=1, rooms=1, horizon=timedelta(days=10)
        )
    )


def a_day_ahead() -> date:
    return (datetime.now(ATHENS) + timedelta(days=3)).date()


async def slot_starts(service: RunningService, clinic: demo.Clinic, day: date) -> set[datetime]:
    start = datetime.combine(day, time(0), ATHENS)
    response = await service.client.get(
        "/v1/slots",
        params={
            "location_id": str(clinic.location_id),
            "service_id": str(clinic.service_id),
            "resource_id": str(clinic.staff_ids[0]),
            "from": start.isoformat(),
            "until": (start + timedelta(days=1)).isoformat(),
            "limit": 500,
        },
        headers=bearer("staff", clinic.tenant_id),
    )
    assert response.status_code == 200, response.text
    return {datetime.fromisoformat(s["start"]) for s in response.json()}


async def link(
    service: RunningService, clinic: demo.Clinic, url: str, password: str = PASSWORD
) -> httpx.Response:
    return await service.client.put(
        f"/v1/resources/{clinic.staff_ids[0]}/calendar-link",
        json={"url": url, "username": USER, "password": password},
        headers=bearer("manager", clinic.tenant_id),
    )


async def link_status(service: RunningService, clinic: demo.Clinic) -> dict[str, Any]:
    response = await service.client.get(
        f"/v1/resources/{clinic.staff_ids[0]}/calendar-link",
        headers=bearer("manager", clinic.tenant_id),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def confirmation(
    clinic: demo.Clinic, booking_id: str, slot: TimeSlot, resource_ids: list[str]
) -> BookingConfirmed:
    return BookingConfirmed(
        tenant_id=clinic.tenant_id,
        aggregate_id=booking_id,
        sequence=3,
        booking_id=booking_id,
        reference="SLT-7K4Q",
        customer_id="cust-1",
        contact=Contact(name="Ana", phone="+302101234567"),
        consents=Consents(),
        service_id=str(clinic.service_id),
        service_name="60-min massage",
        location_id=str(clinic.location_id),
        time_zone="Europe/Athens",
        slot=slot,
        resource_ids=resource_ids,
    )


async def uids_in(radicale: Radicale, calendar_url: str) -> list[str]:
    return [str(e["UID"]) for e in await anyio.to_thread.run_sync(radicale.events, calendar_url)]


class TestPullBusyTimes:
    async def test_an_event_in_the_calendar_blocks_the_slot_and_its_deletion_frees_it(
        self, service: RunningService, radicale: Radicale
    ) -> None:
        clinic = await clinic_of(service)
        day = a_day_ahead()
        ten = datetime.combine(day, time(10), ATHENS)
        calendar_url = await anyio.to_thread.run_sync(radicale.new_calendar)
        response = await link(service, clinic, calendar_url)
        assert response.status_code == 200, response.text
        assert PASSWORD not in response.text
        await eventually(lambda: _is_in(ten, slot_starts(service, clinic, day)))

        await anyio.to_thread.run_sync(
            radicale.add_event, calendar_url, "dentist-1", ten, ten + timedelta(hours=1)
        )
        await eventually(lambda: _is_not_in(ten, slot_starts(service, clinic, day)), timeout=15)
        starts = await slot_starts(service, clinic, day)
        # The hour and the hour before it (a 60-min service) are blocked; the rest is free.
        assert ten - timedelta(minutes=45) not in starts
        assert ten + timedelta(hours=1) in starts
        assert (await link_status(service, clinic))["blocks"] == 1
        assert (await link_status(service, clinic))["health"] == "healthy"

        await anyio.to_thread.run_sync(radicale.delete_event, calendar_url, "dentist-1")
        await eventually(lambda: _is_in(ten, slot_starts(service, clinic, day)), timeout=15)
        assert (await link_status(service, clinic))["blocks"] == 0

    async def test_after_an_unknown_sync_token_the_deleted_events_block_still_goes(
        self, service: RunningService, radicale: Radicale, module_database_url: str
    ) -> None:
        clinic = await clinic_of(service)
        day = a_day_ahead()
        eleven = datetime.combine(day, time(11), ATHENS)
        calendar_url = await anyio.to_thread.run_sync(radicale.new_calendar)
        await anyio.to_thread.run_sync(
            radicale.add_event, calendar_url, "standup", eleven, eleven + timedelta(hours=1)
        )
        assert (await link(service, clinic, calendar_url)).status_code == 200
        await eventually(lambda: _is_not_in(eleven, slot_starts(service, clinic, day)), timeout=15)
        resource = clinic.staff_ids[0]

        def pause_with_unknown_token() -> bool:  # not while a pull holds the link
            with psycopg.connect(module_database_url, autocommit=True) as connection:
                return (
                    connection.execute(
                        "UPDATE availability.calendar_links SET sync_token ="
                        " 'http://radicale.org/ns/sync/unknown', next_sync_at = now()"
                        " + interval '1 hour' WHERE resource_id = %s AND (leased_until IS NULL"
                        " OR leased_until < now())",
                        (resource,),
                    ).rowcount
                    == 1
                )

        await eventually(lambda: anyio.to_thread.run_sync(pause_with_unknown_token))
        await anyio.to_thread.run_sync(radicale.delete_event, calendar_url, "standup")
        three_days = {"freq": "daily", "count": 3}
        one = datetime.combine(day, time(13), ATHENS)
        await anyio.to_thread.run_sync(
            radicale.add_event, calendar_url, "lunch", one, one + timedelta(hours=1), three_days
        )
        with psycopg.connect(module_database_url, autocommit=True) as connection:
            connection.execute(
                "UPDATE availability.calendar_links SET next_sync_at = now()"
                " WHERE resource_id = %s",
                (resource,),
            )
        # The server no longer knows the token: the calendar is listed whole, so the
        # deleted event's block goes although no deletion was reported.
        await eventually(lambda: _is_in(eleven, slot_starts(service, clinic, day)), timeout=15)
        # the recurrence's blocks may land in a later batch of the view than the freed 11:00
        await eventually(lambda: _is_not_in(one, slot_starts(service, clinic, day)), timeout=15)
        assert (await link_status(service, clinic))["blocks"] == 3  # the recurrence, expanded


class TestCalDavGateway:
    def test_changes_come_by_sync_token_and_an_unknown_token_lists_everything(
        self, radicale: Radicale
    ) -> None:
        gateway = CalDavGateway(allow_private=True)
        url = radicale.new_calendar()
        access = CalendarAccess(url, USER, PASSWORD)
        start = datetime.combine(a_day_ahead(), time(9), ATHENS)
        window = Interval(start - timedelta(days=1), start + timedelta(days=10))
        radicale.add_event(url, "a", start, start + timedelta(hours=1))
        first = gateway.pull(access, None, {}, window, ATHENS)
        assert first.pulled.full
        assert set(first.pulled.busy) == {"a"}
        assert first.token is not None

        radicale.delete_event(url, "a")
        radicale.add_event(
            url, "b", start, start + timedelta(hours=2), {"freq": "daily", "count": 2}
        )
        changes = gateway.pull(access, first.token, first.uids_by_href, window, ATHENS)
        assert not changes.pulled.full
        assert changes.pulled.removed == {"a"}
        assert len(changes.pulled.busy["b"]) == 2  # the recurrence, expanded

        unknown = "http://radicale.org/ns/sync/unknown"
        relisted = gateway.pull(access, unknown, first.uids_by_href, window, ATHENS)
        assert relisted.pulled.full  # so "a"'s blocks go although no deletion is reported
        assert set(relisted.pulled.busy) == {"b"}
        assert relisted.token is None  # the next pull starts a real sync from scratch


class TestPushBookings:
    async def test_a_booking_is_written_once_moved_with_a_rising_sequence_and_removed(
        self, service: RunningService, radicale: Radicale
    ) -> None:
        clinic = await clinic_of(service)
        calendar_url = await anyio.to_thread.run_sync(radicale.new_calendar)
        assert (await link(service, clinic, calendar_url)).status_code == 200
        booking_id = f"bk-{uuid.uuid4().hex[:8]}"
        start = datetime.combine(a_day_ahead(), time(12), ATHENS)
        slot = TimeSlot(start=start, end=start + timedelta(hours=1))
        confirmed = confirmation(
            clinic, booking_id, slot, [str(clinic.staff_ids[0]), str(clinic.room_ids[0])]
        )
        broker = service.runtime.broker
        assert broker is not None
        for _ in range(2):  # delivered twice: written once
            await broker.publish(confirmed.to_json(), topic=BOOKING_EVENTS, key=booking_id.encode())

        def booked(sequence: int, at: datetime) -> Callable[[], Awaitable[bool]]:
            async def check() -> bool:
                events = await anyio.to_thread.run_sync(radicale.events, calendar_url)
                return [(str(e["UID"]), int(e["SEQUENCE"]), e["DTSTART"].dt) for e in events] == [
                    (booking_uid(booking_id), sequence, at)
                ]

            return check

        await eventually(booked(3, start), timeout=15, interval=0.2)

        moved = start + timedelta(hours=2)
        rescheduled = BookingRescheduled(
            tenant_id=clinic.tenant_id,
            aggregate_id=booking_id,
            sequence=4,
            booking_id=booking_id,
            by=Actor.CUSTOMER,
            previous_slot=slot,
            slot=TimeSlot(start=moved, end=moved + timedelta(hours=1)),
            resource_ids=[str(clinic.staff_ids[0])],
            change_number=1,
        )
        await broker.publish(rescheduled.to_json(), topic=BOOKING_EVENTS, key=booking_id.encode())
        await eventually(booked(4, moved), timeout=15, interval=0.2)
        # Our own booking is never read back as busy time.
        synced_before = (await link_status(service, clinic))["last_synced_at"]
        await eventually(lambda: _changed(synced_before, link_status(service, clinic)), timeout=10)
        assert (await link_status(service, clinic))["blocks"] == 0

        cancelled = BookingCancelled(
            tenant_id=clinic.tenant_id,
            aggregate_id=booking_id,
            sequence=5,
            booking_id=booking_id,
            by=Actor.CUSTOMER,
            within_free_window=True,
        )
        await broker.publish(cancelled.to_json(), topic=BOOKING_EVENTS, key=booking_id.encode())

        async def gone() -> bool:
            return await anyio.to_thread.run_sync(radicale.events, calendar_url) == []

        await eventually(gone, timeout=15, interval=0.2)


class TestFailingSync:
    async def test_a_failing_link_is_retried_shown_unhealthy_and_recovers(
        self, service: RunningService, radicale: Radicale
    ) -> None:
        clinic = await clinic_of(service)
        calendar_url = await anyio.to_thread.run_sync(radicale.new_calendar)
        wrong = "wrong-password-123"
        assert (await link(service, clinic, calendar_url, password=wrong)).status_code == 200

        async def failed_twice() -> bool:
            status = await link_status(service, clinic)
            return bool(status["health"] == "unhealthy" and status["failures"] >= 2)

        await eventually(failed_twice, timeout=15)
        booking_id = f"bk-{uuid.uuid4().hex[:8]}"
        start = datetime.combine(a_day_ahead(), time(16), ATHENS)
        confirmed = confirmation(
            clinic,
            booking_id,
            TimeSlot(start=start, end=start + timedelta(hours=1)),
            [str(clinic.staff_ids[0])],
        )
        broker = service.runtime.broker
        assert broker is not None
        await broker.publish(confirmed.to_json(), topic=BOOKING_EVENTS, key=booking_id.encode())

        async def push_failing() -> bool:
            return bool((await link_status(service, clinic))["failing_pushes"])

        await eventually(push_failing, timeout=15)
        status = await link_status(service, clinic)
        assert "401" in status["last_error"] or "Authori" in status["last_error"]
        ready = await service.client.get("/readyz")
        detail = ready.json()["checks"]["calendar_sync"]["detail"]
        assert str(clinic.staff_ids[0]) in detail
        assert wrong not in ready.text
        assert wrong not in str(status)
        metrics = (await service.client.get("/metrics")).text
        assert 'slotline_calendar_syncs_total{direction="pull",outcome="failed"}' in metrics
        assert 'slotline_calendar_links{health="unhealthy"}' in metrics

        assert 'slotline_calendar_syncs_total{direction="push",outcome="failed"}' in metrics

        assert (await link(service, clinic, calendar_url)).status_code == 200

        async def healthy() -> bool:
            status = await link_status(service, clinic)
            return bool(status["health"] == "healthy" and status["failing_pushes"] == 0)

        await eventually(healthy, timeout=15)
        # The booking that could not be written was retried and is there, once.
        assert await uids_in(radicale, calendar_url) == [booking_uid(booking_id)]


class TestUnlinkDuringAPull:
    async def test_a_pull_finishing_after_its_link_was_removed_adds_no_block(
        self, service: RunningService
    ) -> None:
        clinic = await clinic_of(service)
        app = application(service)
        store = LinkStore(app.schema)
        resource = clinic.staff_ids[0]
        start = datetime.combine(a_day_ahead(), time(10), ATHENS)
        pulled = Pulled(full=True, busy={"late": (Interval(start, start + timedelta(hours=1)),)})

        def apply() -> bool:  # the resource has no link (it was removed mid-pull)
            return app.calendar_pulled(
                clinic.tenant_id,
                resource,
                pulled,
                lambda work: store.holds_link(work.cursor, resource),
            )

        assert await anyio.to_thread.run_sync(apply) is False
        assert app.resource(clinic.tenant_id, resource).time_off == ()


class TestReplicas:
    def test_two_replicas_never_take_the_same_link(self, module_database_url: str) -> None:
        schema = f"claims_{uuid.uuid4().hex[:8]}"  # apart from the running service's links
        store = LinkStore(schema)
        with psycopg.connect(module_database_url, autocommit=True) as setup:
            setup.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
            with setup.cursor(row_factory=dict_row) as cursor:
                make_tables(cursor, schema)
                for _ in range(4):
                    store.save_link(
                        cursor, "t", uuid.uuid4(), "https://cal.example/", "u", b"sealed"
                    )
        lease = timedelta(minutes=2)
        with (
            psycopg.connect(module_database_url, row_factory=dict_row) as one,
            psycopg.connect(module_database_url, row_factory=dict_row) as two,
        ):
            first = store.claim_due(one.cursor(), 3, lease)  # not committed: rows locked
            second = store.claim_due(two.cursor(), 3, lease)
            one.commit()
            two.commit()
            third = store.claim_due(two.cursor(), 3, lease)  # all leased now
        assert len(first) == 3
        assert len(second) == 1
        taken = {link.resource_id for link in first}
        assert taken.isdisjoint(other.resource_id for other in second)
        assert third == []


class TestLinkRequests:
    async def test_bad_links_are_refused_precisely(
        self, service: RunningService, radicale: Radicale
    ) -> None:
        clinic = await clinic_of(service)
        manager = bearer("manager", clinic.tenant_id)
        path = f"/v1/resources/{clinic.staff_ids[0]}/calendar-link"
        body = {"url": "not a url", "username": USER, "password": PASSWORD}
        response = await service.client.put(path, json=body, headers=manager)
        assert response.status_code == 422
        assert "url" in response.text
        response = await service.client.get(path, headers=manager)
        assert response.status_code == 404
        assert "no calendar link" in response.text
        no_user = {"url": radicale.base_url, "password": PASSWORD}
        response = await service.client.put(path, json=no_user, headers=manager)
        assert response.status_code == 422
        assert "username" in response.text
        google = {
            "provider": "google",
            "url": "https://www.googleapis.com/calendar/v3/calendars/ana%40example.com",
            "refresh_token": "1//refresh-token",
        }
        # No name resolves here: the address guard is off for this service (loopback).
        response = await service.client.put(path, json=google, headers=manager)
        assert response.status_code == 200, response.text
        assert response.json()["provider"] == "google"
        assert "1//refresh" not in response.text
        microsoft = {
            "provider": "microsoft",
            "url": "https://graph.microsoft.com/v1.0/me/calendars/AAMkAGI2TG93AAA=",
            "refresh_token": "0.AXkA-refresh",
        }
        response = await service.client.put(path, json=microsoft, headers=manager)
        assert response.status_code == 200, response.text
        assert response.json()["provider"] == "microsoft"
        assert "0.AXkA" not in response.text
        as_password = {"provider": "microsoft", "url": microsoft["url"], "password": "eyJ0.x"}
        response = await service.client.put(path, json=as_password, headers=manager)
        assert response.status_code == 422
        assert "refresh_token" in response.text
        assert "eyJ0.x" not in response.text
        unlinked = await service.client.delete(path, headers=manager)
        assert unlinked.status_code == 204
        unknown = f"/v1/resources/{uuid.uuid4()}/calendar-link"
        body["url"] = radicale.base_url
        assert (await service.client.put(unknown, json=body, headers=manager)).status_code == 404
        desk = bearer("front_desk", clinic.tenant_id)
        assert (await service.client.put(path, json=body, headers=desk)).status_code == 403
        other = bearer("manager", "another-tenant")
        assert (await service.client.put(path, json=body, headers=other)).status_code == 404

    async def test_unlinking_removes_the_calendars_blocks(
        self, service: RunningService, radicale: Radicale
    ) -> None:
        clinic = await clinic_of(service)
        day = a_day_ahead()
        three = datetime.combine(day, time(15), ATHENS)
        calendar_url = await anyio.to_thread.run_sync(radicale.new_calendar)
        await anyio.to_thread.run_sync(
            radicale.add_event, calendar_url, "gym", three, three + timedelta(hours=1)
        )
        assert (await link(service, clinic, calendar_url)).status_code == 200
        await eventually(lambda: _is_not_in(three, slot_starts(service, clinic, day)), timeout=15)
        response = await service.client.delete(
            f"/v1/resources/{clinic.staff_ids[0]}/calendar-link",
            headers=bearer("manager", clinic.tenant_id),
        )
        assert response.status_code == 204
        await eventually(lambda: _is_in(three, slot_starts(service, clinic, day)), timeout=15)


async def _is_in(start: datetime, starts: Awaitable[set[datetime]]) -> bool:
    return start in await starts


async def _is_not_in(start: datetime, starts: Awaitable[set[datetime]]) -> bool:
    return start not in await starts


async def _changed(before: object, status: Awaitable[dict[str, Any]]) -> bool:
    return bool((await status)["last_synced_at"] != before)


class TestRenewedTokens:
    def test_a_renewed_grant_is_kept_sealed_and_signs_in_the_next_sync(
        self, module_database_url: str
    ) -> None:
        schema = f"oauth_{uuid.uuid4().hex[:8]}"  # apart from the running service's jobs
        ensure_schema(module_database_url, schema)
        app = AvailabilityApplication(env=postgres_env(module_database_url, schema))
        try:
            open_tables(app)
            clinic = demo.open_clinic(app, "oauth", staff=1, rooms=1, horizon=timedelta(days=10))
            resource = clinic.staff_ids[0]
            graph = MicrosoftGraphSimulator("eyJ0.first-access", refresh_token="0.AXkA-first")
            url = graph.calendar_url("ana")
            box = CredentialBox(DEVELOPMENT_KEY)
            grant = OAuthGrant("0.AXkA-first", "eyJ0.first-access")
            CalendarLinks(app, box, allow_private=True).link(
                "oauth", resource, url, "", grant.sealable(), "microsoft"
            )
            start = datetime.combine(a_day_ahead(), time(10), ATHENS)
            graph.add_event("ana", start, start + timedelta(hours=1))
            graph.auth.expire_access_tokens()  # an hour on: the linked token is refused
            client = OAuthClient(graph.token_url(), CLIENT_ID, CLIENT_SECRET, MICROSOFT_SCOPE)
            gateways = {
                "microsoft": MicrosoftCalendarGateway(
                    allow_private=True, transport=graph.transport, oauth=client
                )
            }
            policy = SyncPolicy(timedelta(seconds=30), timedelta(minutes=5), timedelta(days=30))
            jobs = (gateways, box, policy, CalendarMetrics())
            store = LinkStore(schema)

            def link() -> LinkRow:
                with app.sql_recorder.datastore.transaction(commit=False) as cursor:
                    found = store.get(cursor, "oauth", resource)
                assert found is not None
                return found

            CalendarPull(app, *jobs, interval_seconds=1).pull(link())
            after = link()
            assert after.health == "healthy", after.last_error
            assert len(app.resource("oauth", resource).time_off) == 1
            assert after.sealed_refreshed is not None
            assert b"eyJ0" not in after.sealed_refreshed
            assert b"0.AXkA" not in after.sealed_refreshed
            renewed = OAuthGrant.of(box.open(resource, after.sealed_refreshed))
            assert renewed.access_token in graph.auth.access_tokens
            assert renewed.refresh_token not in (None, "0.AXkA-first")  # rotated, kept

            # The push job signs in with the kept grant: no second renewal.
            booking = PushRow(
                resource,
                "bk-oauth",
                True,
                start + timedelta(hours=2),
                start + timedelta(hours=3),
                "Massage",
                3,
                0,
            )
            CalendarPush(app, *jobs, interval_seconds=1).push(booking, link())
            assert len(graph.live_events("ana")) == 2
            assert graph.auth.renewals == 1

            # A re-link starts from its own credential again.
            CalendarLinks(app, box, allow_private=True).link(
                "oauth", resource, url, "", grant.sealable(), "microsoft"
            )
            assert link().sealed_refreshed is None
        finally:
            app.close()
