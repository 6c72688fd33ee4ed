"""Outbound webhooks over the real stack: the notifier on PostgreSQL and the broker, and
a real local HTTP receiver that verifies each delivery's Standard Webhooks signature
(``standardwebhooks.Webhook``), answers 500 or hangs when told to."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import anyio
import psycopg
import pytest
from eventsourcing.persistence import Tracking
from psycopg import sql

from slotline.events.contract import booking as bookings
from slotline.events.contract import payments
from slotline.events.contract.common import Money
from slotline.events.contract.notifications import WebhookEndpointPaused, WebhookEndpointResumed
from slotline.events.contract.registry import messages_on
from slotline.events.outbound import AddressGuard
from slotline.events.store import ensure_schema, postgres_env
from slotline.events.testing.reading import eventually
from slotline.events.testing.service import RunningService, bearer, running
from slotline.events.topics import BOOKING_EVENTS, PAYMENTS_EVENTS
from slotline.notifier.application import NotifierApplication
from slotline.notifier.domain.webhooks import delivery_id
from slotline.notifier.persistence.tables import open_tables
from slotline.notifier.persistence.unit_of_work import unit_of_work
from slotline.notifier.simulator import ProviderSimulator
from slotline.notifier.testing import (
    START_OF_TESTS,
    MailServer,
    TestClock,
    WebhookReceiver,
    confirmed,
    new_tenant,
    notifications_of,
    notifier_settings,
    publish,
    receiving,
    with_webhooks,
)
from slotline.notifier.webhooks.sender import WebhookHttp
from slotline.notifier.wiring import config_of, service_spec

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def receiver() -> AsyncIterator[tuple[WebhookReceiver, str]]:
    hooks = WebhookReceiver()
    async with receiving(hooks) as url:
        yield hooks, url


@pytest.fixture(scope="module")
async def hooks_service(
    module_database_url: str,
    module_kafka_bootstrap: str,
    mail_server: MailServer,
    provider: tuple[ProviderSimulator, str],
) -> AsyncIterator[RunningService]:
    settings = with_webhooks(
        notifier_settings(module_database_url, module_kafka_bootstrap, mail_server, provider)
    )
    async with running(service_spec(settings, clock=TestClock())) as service:
        yield service


async def subscribe(
    service: RunningService,
    receiver: tuple[WebhookReceiver, str],
    tenant: str,
    event_types: list[str],
    **extra: Any,
) -> tuple[str, str, str]:
    """A subscription of ``tenant`` to a fresh path of the receiver, which verifies with
    its secret; returns (subscription id, secret, path)."""
    hooks, url = receiver
    path = f"hook-{uuid.uuid4().hex[:8]}"
    response = await service.client.post(
        "/webhooks/subscriptions",
        json={"url": f"{url}/{path}", "event_types": event_types, **extra},
        headers=bearer("owner", tenant),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    hooks.secrets[path] = [body["secret"]]
    return body["subscription_id"], body["secret"], path


async def log_of(service: RunningService, tenant: str, webhook_id: str) -> dict[str, Any]:
    """The delivery and its attempts ({} while the event has not been fanned out yet)."""
    response = await service.client.get(
        f"/webhooks/deliveries/{webhook_id}", headers=bearer("manager", tenant)
    )
    if response.status_code == 404:
        return {}
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def cancelled(event: bookings.BookingConfirmed) -> bookings.BookingCancelled:
    return bookings.BookingCancelled(
        tenant_id=event.tenant_id,
        aggregate_id=event.aggregate_id,
        sequence=event.sequence + 1,
        booking_id=event.booking_id,
        by=bookings.Actor.CUSTOMER,
        within_free_window=True,
        reason="cannot come",
    )


class TestSignedDelivery:
    async def test_every_booking_event_of_the_tenant_arrives_signed_once_per_id(
        self, hooks_service: RunningService, receiver: tuple[WebhookReceiver, str]
    ) -> None:
        hooks, _ = receiver
        tenant, other = new_tenant(), new_tenant()
        subscription, secret, path = await subscribe(
            hooks_service, receiver, tenant, ["BookingConfirmed", "BookingCancelled"]
        )
        _, _, elsewhere = await subscribe(hooks_service, receiver, tenant, ["PaymentRefunded"])
        booking = confirmed(tenant, _soon())
        events = [booking, cancelled(booking)]
        for event in [*events, confirmed(other, _soon())]:
            await publish(hooks_service, event)

        expected = {delivery_id(str(e.event_id), subscription) for e in events}
        await eventually(lambda: hooks.ids(path) == expected, timeout=15)
        arrived = hooks.of(path)
        assert all(r.verified for r in arrived)
        assert all(hooks.verifies(r, secret) for r in arrived)
        bodies = {r.webhook_id: r.body for r in arrived}
        for event in events:  # the payload is the public event's JSON
            body = bodies[delivery_id(str(event.event_id), subscription)]
            assert type(event).model_validate_json(body) == event
        webhook_id = delivery_id(str(booking.event_id), subscription)

        async def delivered() -> bool:  # the receiver may answer before the result is noted
            return (await log_of(hooks_service, tenant, webhook_id)).get("state") == "delivered"

        await eventually(delivered, timeout=15)
        log = await log_of(hooks_service, tenant, webhook_id)
        assert log["state"] == "delivered"
        assert log["attempt_log"][0]["status"] == 200
        assert log["attempt_log"][0]["latency_ms"] > 0
        assert '"ok"' in log["attempt_log"][0]["response_excerpt"]
        # the other event types' subscription got nothing, nor did the other tenant's events
        assert hooks.of(elsewhere) == []
        listed = await hooks_service.client.get(
            f"/webhooks/subscriptions/{subscription}/deliveries", headers=bearer("owner", tenant)
        )
        assert {d["delivery_id"] for d in listed.json()} == expected

    async def test_a_redelivered_event_makes_no_second_delivery(
        self, hooks_service: RunningService, receiver: tuple[WebhookReceiver, str]
    ) -> None:
        hooks, _ = receiver
        tenant = new_tenant()
        subscription, _, path = await subscribe(
            hooks_service, receiver, tenant, ["BookingConfirmed"]
        )
        booking = confirmed(tenant, _soon())
        await publish(hooks_service, booking)
        await eventually(lambda: len(hooks.of(path)) == 1, timeout=15)
        await publish(hooks_service, booking)  # the relay published it again
        app = _app(hooks_service)
        tracking = Tracking(f"notifier|{booking.TOPIC}|{tenant}|{booking.aggregate_id}", 3)
        await eventually(lambda: app.applied(tracking), timeout=10)
        await anyio.sleep(0.6)  # three sender polls
        assert len(hooks.of(path)) == 1
        deliveries = await hooks_service.client.get(
            f"/webhooks/subscriptions/{subscription}/deliveries", headers=bearer("owner", tenant)
        )
        assert len(deliveries.json()) == 1


class TestRetries:
    async def test_a_500_is_retried_with_the_same_id_until_it_succeeds(
        self, hooks_service: RunningService, receiver: tuple[WebhookReceiver, str]
    ) -> None:
        hooks, _ = receiver
        tenant = new_tenant()
        subscription, _, path = await subscribe(
            hooks_service, receiver, tenant, ["BookingConfirmed"]
        )
        hooks.failing[path] = 2
        booking = confirmed(tenant, _soon())
        await publish(hooks_service, booking)
        webhook_id = delivery_id(str(booking.event_id), subscription)

        async def delivered() -> bool:
            return await _state_of(hooks_service, tenant, webhook_id) == "delivered"

        await eventually(delivered, timeout=15)
        assert [r.webhook_id for r in hooks.of(path)] == [webhook_id] * 3
        log = await log_of(hooks_service, tenant, webhook_id)
        assert [a["status"] for a in log["attempt_log"]] == [500, 500, 200]
        assert log["attempt_log"][0]["response_excerpt"].startswith("receiver broken")
        assert len(log["attempt_log"][0]["response_excerpt"]) <= 500

    async def test_a_receiver_that_does_not_answer_is_cut_off_at_the_timeout(
        self, hooks_service: RunningService, receiver: tuple[WebhookReceiver, str]
    ) -> None:
        hooks, _ = receiver
        tenant = new_tenant()
        subscription, _, path = await subscribe(
            hooks_service, receiver, tenant, ["BookingConfirmed"]
        )
        hooks.hanging.add(path)
        booking = confirmed(tenant, _soon())
        await publish(hooks_service, booking)
        webhook_id = delivery_id(str(booking.event_id), subscription)

        async def timed_out() -> list[Any]:
            log = await log_of(hooks_service, tenant, webhook_id)
            tried = log.get("attempt_log", [])
            return [a for a in tried if a["error"] and "no answer" in a["error"]]

        await eventually(timed_out, timeout=10)
        hooks.hanging.discard(path)

        async def delivered() -> bool:
            return await _state_of(hooks_service, tenant, webhook_id) == "delivered"

        await eventually(delivered, timeout=10)
        first = (await log_of(hooks_service, tenant, webhook_id))["attempt_log"][0]
        assert first["status"] is None
        assert first["error"] == "no answer within 1 s"


class TestSecretRotation:
    async def test_during_the_overlap_both_the_old_and_the_new_secret_verify(
        self, hooks_service: RunningService, receiver: tuple[WebhookReceiver, str]
    ) -> None:
        hooks, _ = receiver
        tenant = new_tenant()
        subscription, old, path = await subscribe(
            hooks_service, receiver, tenant, ["BookingConfirmed"]
        )
        rotated = await hooks_service.client.post(
            f"/webhooks/subscriptions/{subscription}/rotate-secret",
            headers=bearer("owner", tenant),
        )
        assert rotated.status_code == 200, rotated.text
        new = rotated.json()["secret"]
        assert new != old
        assert len(rotated.json()["previous_secrets_valid_until"]) == 1
        hooks.secrets[path] = [new]  # a receiver that already changed over
        await publish(hooks_service, confirmed(tenant, _soon()))

        await eventually(lambda: hooks.of(path), timeout=15)
        (arrived,) = hooks.of(path)
        assert hooks.verifies(arrived, old)
        assert hooks.verifies(arrived, new)
        assert len(arrived.headers["webhook-signature"].split(" ")) == 2

        # and neither secret can be read from the table: both are sealed at rest
        settings = hooks_service.runtime.settings
        with psycopg.connect(settings.database_url) as conn:
            stored = conn.execute(
                sql.SQL("SELECT keys::text FROM {} WHERE subscription_id = %s").format(
                    sql.Identifier(settings.schema_name, "webhook_subscriptions")
                ),
                (subscription,),
            ).fetchone()
        assert stored is not None
        assert old not in stored[0]
        assert new not in stored[0]
        assert stored[0].count("sealed:v1:") == 2


class TestAddresses:
    @pytest.mark.parametrize(
        ("url", "status", "why"),
        [
            ("ftp://example.com/hook", 422, "scheme"),
            ("https://user:pw@example.com/hook", 409, "credentials"),
        ],
    )
    async def test_a_url_no_webhook_may_go_to_is_refused(
        self, hooks_service: RunningService, url: str, status: int, why: str
    ) -> None:
        response = await hooks_service.client.post(
            "/webhooks/subscriptions",
            json={"url": url, "event_types": ["BookingConfirmed"]},
            headers=bearer("owner", new_tenant()),
        )
        assert response.status_code == status
        assert why in response.text

    async def test_the_event_types_are_listed_once_each(
        self, hooks_service: RunningService
    ) -> None:
        """Every public event a webhook may deliver, by its name, once: an event with
        two schema versions is one type to subscribe to."""
        response = await hooks_service.client.get(
            "/webhooks/event-types", headers=bearer("manager", new_tenant())
        )
        assert response.status_code == 200, response.text
        listed = response.json()
        assert listed == sorted(set(listed))
        wanted = {c.EVENT_TYPE for t in (BOOKING_EVENTS, PAYMENTS_EVENTS) for c in messages_on(t)}
        assert set(listed) == wanted

    async def test_staff_may_not_manage_webhooks(self, hooks_service: RunningService) -> None:
        response = await hooks_service.client.get(
            "/webhooks/subscriptions", headers=bearer("front_desk", new_tenant())
        )
        assert response.status_code == 403


class TestPause:
    async def test_an_endpoint_that_keeps_failing_is_paused_with_a_notice_and_an_event(
        self,
        hooks_service: RunningService,
        receiver: tuple[WebhookReceiver, str],
        mail_server: MailServer,
    ) -> None:
        hooks, _ = receiver
        tenant = new_tenant()
        owner = f"owner-{uuid.uuid4().hex[:8]}@example.com"
        subscription, _, path = await subscribe(
            hooks_service, receiver, tenant, ["BookingConfirmed"], notify_email=owner
        )
        hooks.failing[path] = 1000
        booking = confirmed(tenant, _soon())
        await publish(hooks_service, booking)

        async def state() -> str:
            response = await hooks_service.client.get(
                f"/webhooks/subscriptions/{subscription}", headers=bearer("owner", tenant)
            )
            return str(response.json()["state"])

        await eventually(lambda: _equals(state, "paused"), timeout=15)
        await eventually(lambda: mail_server.to(owner), timeout=10)
        assert "paused" in str(mail_server.to(owner)[0]["Subject"]).lower()
        paused = await notifications_of(hooks_service, tenant, WebhookEndpointPaused)
        assert [p["subscription_id"] for p in paused] == [subscription]
        assert paused[0]["failed_attempts"] == 3
        attempts = len(hooks.of(path))
        await anyio.sleep(0.6)  # paused: nothing more is attempted, nothing dropped
        assert len(hooks.of(path)) == attempts

        hooks.failing[path] = 0
        resumed = await hooks_service.client.post(
            f"/webhooks/subscriptions/{subscription}/resume", headers=bearer("owner", tenant)
        )
        assert resumed.json()["state"] == "active"
        webhook_id = delivery_id(str(booking.event_id), subscription)
        await eventually(
            lambda: _equals(lambda: _state_of(hooks_service, tenant, webhook_id), "delivered"),
            timeout=10,
        )
        assert await notifications_of(hooks_service, tenant, WebhookEndpointResumed)


class TestRedelivery:
    async def test_a_delivery_is_sent_again_on_request_with_the_same_id(
        self, hooks_service: RunningService, receiver: tuple[WebhookReceiver, str]
    ) -> None:
        hooks, _ = receiver
        tenant = new_tenant()
        subscription, _, path = await subscribe(
            hooks_service, receiver, tenant, ["PaymentRefunded"]
        )
        refund = payments.PaymentRefunded(
            tenant_id=tenant,
            aggregate_id=f"pay-{uuid.uuid4().hex[:8]}",
            sequence=4,
            payment_id="pay-1",
            booking_id="b-1",
            amount=_money(),
            full=True,
            reason="customer cancelled",
        )
        await publish(hooks_service, refund)
        await eventually(lambda: hooks.of(path), timeout=15)
        webhook_id = delivery_id(str(refund.event_id), subscription)
        await eventually(
            lambda: _equals(lambda: _state_of(hooks_service, tenant, webhook_id), "delivered"),
            timeout=10,
        )

        again = await hooks_service.client.post(
            f"/webhooks/deliveries/{webhook_id}/redeliver", headers=bearer("manager", tenant)
        )
        assert again.status_code == 202, again.text
        await eventually(lambda: len(hooks.of(path)) == 2, timeout=10)
        assert hooks.ids(path) == {webhook_id}
        missing = await hooks_service.client.post(
            "/webhooks/deliveries/msg_nothing/redeliver", headers=bearer("manager", tenant)
        )
        assert missing.status_code == 404


class TestCrash:
    async def test_a_sender_that_dies_between_claim_and_record_loses_no_delivery(
        self,
        database_url: str,
        kafka_bootstrap: str,
        mail_server: MailServer,
        provider: tuple[ProviderSimulator, str],
        receiver: tuple[WebhookReceiver, str],
    ) -> None:
        """One process claims three deliveries, sends one of them, and dies before
        recording anything; the next process sends all three: every webhook-id arrives,
        the one sent before the crash perhaps twice (the receiver keeps it once)."""
        hooks, url = receiver
        settings = with_webhooks(
            notifier_settings(database_url, kafka_bootstrap, mail_server, provider)
        )
        tenant, path = new_tenant(), f"crash-{uuid.uuid4().hex[:8]}"
        ensure_schema(database_url, settings.schema_name)
        dying = NotifierApplication(
            env=postgres_env(database_url, settings.schema_name), config=config_of(settings)
        )
        open_tables(dying)
        subscription, secret = dying.subscribe(tenant, f"{url}/{path}", ["BookingConfirmed"])
        hooks.secrets[path] = [secret]
        events = [confirmed(tenant, _soon()) for _ in range(3)]
        for event in events:
            with dying.unit_of_work() as work:
                dying.webhook_event(event, work)
        claimed = dying.claim_webhooks(10)
        assert len(claimed) == 3
        http = WebhookHttp(_guard())
        await http.send(claimed[0], dying.webhooks.clock())  # reached the receiver, then died
        await http.close()
        dying.close()
        assert len(hooks.of(path)) == 1

        async with running(service_spec(settings)) as service:
            expected = {delivery_id(str(e.event_id), subscription.subscription_id) for e in events}
            await eventually(lambda: hooks.ids(path) == expected, timeout=20)
            for webhook_id in expected:
                await eventually(
                    lambda w=webhook_id: _equals(
                        lambda: _state_of(service, tenant, w), "delivered"
                    ),
                    timeout=10,
                )
        assert all(r.verified for r in hooks.of(path))
        assert len(hooks.of(path)) == 4  # the one sent before the crash came again


class TestTheLogAtRest:
    """Issue 17 items 7-8: a delivery's body is the event with its contact opened, so the
    table keeps it sealed, and the log of ended deliveries is kept for a while only."""

    async def test_the_body_is_sealed_in_the_table_and_sent_in_the_open(
        self, hooks_service: RunningService, receiver: tuple[WebhookReceiver, str]
    ) -> None:
        hooks, _ = receiver
        tenant = new_tenant()
        _, _, path = await subscribe(hooks_service, receiver, tenant, ["BookingConfirmed"])
        email = f"sealed-{uuid.uuid4().hex[:8]}@example.com"
        await publish(hooks_service, confirmed(tenant, _soon(), email=email))
        await eventually(lambda: len(hooks.of(path)) == 1, timeout=15)
        assert email.encode() in hooks.of(path)[0].body, (
            "the receiver gets the tenant's own contact"
        )
        [stored] = _bodies(hooks_service, tenant)
        assert stored.startswith("sealed:v1:")
        assert email not in stored

    async def test_ended_deliveries_and_their_attempts_go_after_the_keeping(
        self, hooks_service: RunningService, receiver: tuple[WebhookReceiver, str]
    ) -> None:
        hooks, _ = receiver
        tenant = new_tenant()
        subscription, _, path = await subscribe(
            hooks_service, receiver, tenant, ["BookingConfirmed"]
        )
        old, recent = confirmed(tenant, _soon()), confirmed(tenant, _soon())
        for event in (old, recent):
            await publish(hooks_service, event)
        await eventually(lambda: len(hooks.of(path)) == 2, timeout=15)
        old_id = delivery_id(str(old.event_id), subscription)
        recent_id = delivery_id(str(recent.event_id), subscription)
        for webhook_id in (old_id, recent_id):  # the attempt recorded after the answer
            read = partial(_state_of, hooks_service, tenant, webhook_id)
            await eventually(partial(_equals, read, "delivered"), timeout=15)
        app = _app(hooks_service)
        kept = app.webhooks.log_kept
        _ended_at(hooks_service, old_id, app.webhooks.clock() - kept - timedelta(minutes=1))
        _ended_at(hooks_service, recent_id, app.webhooks.clock() - kept + timedelta(minutes=5))

        await anyio.to_thread.run_sync(app.forget_webhook_log)
        assert await log_of(hooks_service, tenant, old_id) == {}
        assert _attempts(hooks_service, old_id) == 0
        assert (await log_of(hooks_service, tenant, recent_id))["state"] == "delivered"
        assert _attempts(hooks_service, recent_id) == 1


# --- helpers ---------------------------------------------------------------------------


def _bodies(service: RunningService, tenant: str) -> list[str]:
    with unit_of_work(_app(service)) as work:
        rows = work.execute(
            "SELECT body FROM {webhook_deliveries} WHERE tenant_id = %s", (tenant,)
        ).fetchall()
    return [str(r["body"]) for r in rows]


def _ended_at(service: RunningService, webhook_id: str, at: datetime) -> None:
    with unit_of_work(_app(service)) as work:
        work.execute(
            "UPDATE {webhook_deliveries} SET finished_at = %s WHERE delivery_id = %s",
            (at, webhook_id),
        )


def _attempts(service: RunningService, webhook_id: str) -> int:
    with unit_of_work(_app(service)) as work:
        row = work.execute(
            "SELECT count(*) AS n FROM {webhook_attempts} WHERE delivery_id = %s", (webhook_id,)
        ).fetchone()
    return int(row["n"]) if row else 0


def _soon() -> datetime:
    return START_OF_TESTS + timedelta(days=3)


def _app(service: RunningService) -> NotifierApplication:
    app = service.runtime.application
    assert isinstance(app, NotifierApplication)
    return app


def _guard() -> AddressGuard:
    return AddressGuard(allow_private=True)


def _money() -> Money:
    return Money(amount_minor=1000, currency="EUR")


async def _state_of(service: RunningService, tenant: str, webhook_id: str) -> str:
    return str((await log_of(service, tenant, webhook_id)).get("state"))


async def _equals(read: Callable[[], Awaitable[str]], expected: str) -> bool:
    return await read() == expected
