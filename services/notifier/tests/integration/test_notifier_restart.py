"""Reminders are stored state: they survive a restart and a downtime, late ones are
dropped rather than sent, and a send cut off by a crash is reported, never repeated."""

from __future__ import annotations

import uuid
from datetime import timedelta

import anyio
import pytest

from slotline.events.contract.booking import BookingConfirmed
from slotline.events.contract.notifications import NotificationFailed, ReminderSkipped
from slotline.events.local.infra import free_port
from slotline.events.store import postgres_env
from slotline.events.testing.reading import eventually
from slotline.events.testing.service import RunningService, running
from slotline.notifier.application import NotifierApplication
from slotline.notifier.domain.outgoing import QueuedMessage
from slotline.notifier.outcomes import Outcomes
from slotline.notifier.settings import NotifierSettings
from slotline.notifier.simulator import ProviderSimulator
from slotline.notifier.testing import (
    MailServer,
    TestClock,
    confirmed,
    local_time,
    new_tenant,
    notifications_of,
    notifier_settings,
    publish,
    settle,
)
from slotline.notifier.wiring import config_of, service_spec

pytestmark = pytest.mark.integration


async def claim_and_die(
    database_url: str, settings: NotifierSettings, clock: TestClock
) -> list[QueuedMessage]:
    """Another process claims what is due at its ``clock`` and dies before recording what
    became of it (it may or may not have reached the provider)."""
    crashed = NotifierApplication(
        env=postgres_env(database_url, settings.schema_name),
        config=config_of(settings),
        clock=clock,
    )
    claimed = await anyio.to_thread.run_sync(Outcomes(crashed).claim, clock.now, 10)
    crashed.close()
    return list(claimed)


def address() -> str:
    return f"{uuid.uuid4().hex[:8]}@example.com"


def restarted(settings: NotifierSettings) -> NotifierSettings:
    """The next process: a new port and a new consumer group. The group re-reads every
    event from the start (as after lost offsets), which the inbox recognises; it also
    spares the test the embedded broker's wait for the old member to leave its group."""
    return settings.model_copy(
        update={"http_port": free_port(), "kafka_group_id": f"notifier-{uuid.uuid4().hex[:6]}"}
    )


@pytest.fixture
def own_settings(
    database_url: str,
    kafka_bootstrap: str,
    mail_server: MailServer,
    provider: tuple[ProviderSimulator, str],
) -> NotifierSettings:
    """A notifier on this test's own database and broker."""
    return notifier_settings(database_url, kafka_bootstrap, mail_server, provider)


async def confirmed_by_mail(
    service: RunningService, mail_server: MailServer, booking: BookingConfirmed
) -> None:
    """The booking is confirmed, its confirmation mailed and its outcome recorded."""
    await publish(service, booking)
    await eventually(lambda: mail_server.to(booking.contact.email or ""))
    await settle(1.0)


async def reported_interrupted_never_resent(
    service: RunningService, mail_server: MailServer, tenant: str, email: str
) -> None:
    """The cut-off send is reported failed ("interrupted", not permanent), not sent again."""

    async def reported() -> list[dict[str, object]]:
        return await notifications_of(service, tenant, NotificationFailed)

    await eventually(reported, timeout=15)
    [failure] = await reported()
    assert "interrupted" in str(failure["reason"])
    assert failure["permanent"] is False
    await settle(1.0)
    assert len(mail_server.to(email)) == 1, "never resent: at most once"


class TestRestarts:
    async def test_reminders_due_during_a_downtime_are_sent_once_after_it_or_dropped_if_too_late(
        self,
        module_database_url: str,
        module_kafka_bootstrap: str,
        mail_server: MailServer,
        provider: tuple[ProviderSimulator, str],
    ) -> None:
        clock = TestClock()
        tenant, on_time, too_late = new_tenant(), address(), address()
        afternoon = local_time(clock, 2, 14)  # 24 h reminder due tomorrow 14:00
        small_hours = local_time(clock, 2, 1)  # 24 h reminder useful only until tomorrow 13:00
        late_booking = confirmed(tenant, small_hours, email=too_late)

        def settings() -> NotifierSettings:
            return restarted(
                notifier_settings(
                    module_database_url, module_kafka_bootstrap, mail_server, provider
                )
            )

        async with running(service_spec(settings(), clock=clock)) as service:
            await publish(service, confirmed(tenant, afternoon, email=on_time))
            await publish(service, late_booking)
            await eventually(lambda: mail_server.to(on_time) and mail_server.to(too_late))
            await settle(1.0)  # outcomes recorded before the stop

        clock.move_to(afternoon - timedelta(hours=24) + timedelta(seconds=1))  # the downtime

        async with running(service_spec(settings(), clock=clock)) as service:
            await eventually(lambda: len(mail_server.to(on_time)) == 2, timeout=15)
            await settle(1.5)
            assert mail_server.to(on_time)[1]["Subject"].startswith("Reminder:")
            assert len(mail_server.to(on_time)) == 2, "sent once, the confirmation not again"
            assert len(mail_server.to(too_late)) == 1, "a late reminder is dropped, not sent"
            skipped = await notifications_of(service, tenant, ReminderSkipped)
            assert [(s["booking_id"], s["kind"], s["reason"]) for s in skipped] == [
                (late_booking.booking_id, "24h", "too_late")
            ]

    async def test_a_send_cut_off_by_a_crash_is_reported_and_never_repeated(
        self, own_settings: NotifierSettings, mail_server: MailServer
    ) -> None:
        clock = TestClock()
        tenant, email = new_tenant(), address()
        start = local_time(clock, 2, 16)
        settings = own_settings.model_copy(update={"interrupted_after_seconds": 60})
        async with running(service_spec(settings, clock=clock)) as service:
            await confirmed_by_mail(service, mail_server, confirmed(tenant, start, email=email))

        # While the service is down, a process claims the due reminder and dies before
        # recording what became of it (it may or may not have reached the provider).
        clock.move_to(start - timedelta(hours=24) + timedelta(seconds=1))
        claimed = await claim_and_die(settings.database_url, settings, clock)
        assert [m.reminder_kind for m in claimed] == ["24h"]

        clock.advance(timedelta(minutes=2))
        async with running(
            service_spec(settings.model_copy(update={"http_port": free_port()}), clock=clock)
        ) as service:
            await reported_interrupted_never_resent(service, mail_server, tenant, email)

    async def test_a_send_cut_off_in_another_replica_is_reported_while_this_one_runs(
        self, own_settings: NotifierSettings, mail_server: MailServer
    ) -> None:
        """Not only at a restart: a running replica reports claims older than any send
        takes (here 2 s), so a text-back or reminder cut off by a kill is not left
        'sending' for good; it is still never resent."""
        clock = TestClock()
        tenant, email = new_tenant(), address()
        start = local_time(clock, 2, 16)
        settings = own_settings.model_copy(update={"interrupted_after_seconds": 2})
        async with running(service_spec(settings, clock=clock)) as service:
            await confirmed_by_mail(service, mail_server, confirmed(tenant, start, email=email))
            # Another replica (its own clock at the reminder's time) claims and dies.
            elsewhere = TestClock()
            elsewhere.move_to(start - timedelta(hours=24) + timedelta(seconds=1))
            claimed = await claim_and_die(settings.database_url, settings, elsewhere)
            assert [m.reminder_kind for m in claimed] == ["24h"]
            clock.move_to(elsewhere.now + timedelta(minutes=1))
            await reported_interrupted_never_resent(service, mail_server, tenant, email)
