"""A missed-call text-back never waits behind a burst of reminders: reminders go by the
bulk lane, text-backs by the prompt lane, each with its own claims and sending slots."""

from __future__ import annotations

import uuid
from datetime import timedelta

import anyio
import pytest

from slotline.events.contract.notifications import TextBackRequested
from slotline.events.store import postgres_env
from slotline.events.testing.reading import eventually
from slotline.events.testing.service import RunningService, running
from slotline.notifier.application import NotifierApplication
from slotline.notifier.domain.booking_card import BookingCard
from slotline.notifier.domain.notices import reminder_notices
from slotline.notifier.domain.reminders import PlannedReminder, ReminderKind
from slotline.notifier.persistence import queue
from slotline.notifier.persistence.unit_of_work import unit_of_work
from slotline.notifier.settings import NotifierSettings
from slotline.notifier.simulator import ProviderSimulator
from slotline.notifier.testing import (
    MailServer,
    TestClock,
    greek_mobile,
    new_tenant,
    notifier_settings,
    publish,
)
from slotline.notifier.wiring import config_of, service_spec

pytestmark = pytest.mark.integration

BURST = 1500


def seed_due_reminders(
    database_url: str, settings: NotifierSettings, clock: TestClock, tenant: str
) -> list[str]:
    """``BURST`` bookings' 24 h reminders, all due a minute ago (as ``BookingConfirmed``
    would have queued them); returns their phones."""
    app = NotifierApplication(
        env=postgres_env(database_url, settings.schema_name), config=config_of(settings)
    )
    kind = ReminderKind.parse("24h")
    due = clock.now - timedelta(minutes=1)
    start = due + kind.lead
    phones = [greek_mobile() for _ in range(BURST)]
    try:
        with unit_of_work(app) as work:
            for i, phone in enumerate(phones):
                card = BookingCard(
                    tenant_id=tenant,
                    booking_id=f"b{i:05d}",
                    reference="SLT-BURST",
                    customer_name=f"Customer {i}",
                    phone=phone,
                    email=None,
                    language="en",
                    transactional_consent=True,
                    marketing_consent=False,
                    service_name="Massage 60",
                    location_name="Kolonaki",
                    address=None,
                    time_zone="Europe/Athens",
                    starts_at=start,
                    ends_at=start + timedelta(hours=1),
                    resource_ids=("staff-1",),
                )
                planned = PlannedReminder(kind, due, kind.useful_until(start))
                for message in reminder_notices(card, planned):
                    queue.enqueue(work, message)
    finally:
        app.close()
    return phones


def text_back(tenant: str, to_phone: str) -> TextBackRequested:
    call_id = f"call-{uuid.uuid4().hex[:10]}"
    return TextBackRequested(
        tenant_id=tenant,
        aggregate_id=call_id,
        call_id=call_id,
        to_phone=to_phone,
        from_phone="+302101234567",
        business_name="Kolonaki Spa",
        booking_url="https://book.example/kolonaki",
    )


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
