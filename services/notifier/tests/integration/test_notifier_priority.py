"""A missed-call text-back never waits behind a burst of reminders: reminders go by the
bulk lane, text-backs by the prompt lane, each with its own claims and sending slots."""

from __future__ import annotations

from datetime import timedelta

import anyio
import pytest

from slotline.events.store import postgres_env
from slotline.events.testing.reading import eventually
from slotline.events.testing.service import RunningService, running
from slotline.notifier.application import NotifierApplication
from slotline.notifier.settings import NotifierSettings
from slotline.notifier.simulator import ProviderSimulator
from slotline.notifier.testing import (
    MailServer,
    TestClock,
    greek_mobile,
    new_tenant,
    notifier_settings,
    publish,
    queue_reminder_burst,
    text_back,
)
from slotline.notifier.wiring import config_of, service_spec

pytestmark = pytest.mark.integration

BURST = 300  # about 10 s of sending at 20 at a time: the text-back comes in its first second


def seed_due_reminders(
    database_url: str, settings: NotifierSettings, clock: TestClock, tenant: str
) -> list[str]:
    """``BURST`` bookings' 24 h reminders, all due a minute ago (as ``BookingConfirmed``
    would have queued them); returns their phones."""
    app = NotifierApplication(
        env=postgres_env(database_url, settings.schema_name), config=config_of(settings)
    )
    due = clock.now - timedelta(minutes=1)
    phones = [greek_mobile() for _ in range(BURST)]
    try:
        queue_reminder_burst(app, tenant, [(phone, due) for phone in phones])
    finally:
        app.close()
    return phones


class TestPriorityLane:
    async def test_a_text_back_queued_during_a_burst_of_due_reminders_is_sent_before_most_of_them(
        self,
        database_url: str,
        kafka_bootstrap: str,
        mail_server: MailServer,
        provider: tuple[ProviderSimulator, str],
    ) -> None:
        simulator, _ = provider
        clock = TestClock()  # 10:00 in Athens: inside the sending window
        tenant = new_tenant()
        settings = notifier_settings(database_url, kafka_bootstrap, mail_server, provider)
        settings = settings.model_copy(update={"send_concurrency": 20})
        async with running(service_spec(settings, clock=clock)) as service:
            await self._warm_up(service, simulator, tenant)

            phones = await anyio.to_thread.run_sync(
                seed_due_reminders, database_url, settings, clock, tenant
            )
            burst = set(phones)

            def reminders_sent() -> list[str]:
                return [m["To"] for m in simulator.accepted if m["To"] in burst]

            await eventually(reminders_sent, timeout=30)  # the burst is being sent
            caller = greek_mobile()
            await publish(service, text_back(tenant, caller))

            await eventually(lambda: simulator.to(caller), timeout=60)
            await eventually(lambda: len(reminders_sent()) >= BURST, timeout=180)
            order = [m["To"] for m in simulator.accepted if m["To"] in burst | {caller}]
            position = order.index(caller)
            assert position < BURST // 2, (
                f"the text-back went out after {position} of {BURST} reminders due before it"
            )
            assert sorted(reminders_sent()) == sorted(phones), "every reminder sent, once"

    @staticmethod
    async def _warm_up(service: RunningService, simulator: ProviderSimulator, tenant: str) -> None:
        """One text-back through the whole path first: the consumer has joined its group."""
        phone = greek_mobile()
        await publish(service, text_back(tenant, phone))
        await eventually(lambda: simulator.to(phone), timeout=30)
