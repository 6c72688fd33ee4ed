"""The SMS-pumping guard on the notifier's texts, over the real broker, SMTP server,
provider simulator and PostgreSQL: anyone can book with someone's number, so texts to
one number, and one tenant's texts, are bounded; over the bound a message goes by
e-mail, or is withheld with the reason — never dropped silently."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from slotline.events.contract.common import MessageChannel
from slotline.events.contract.notifications import NotificationFailed, NotificationSent
from slotline.events.testing.reading import eventually
from slotline.events.testing.service import RunningService, running
from slotline.notifier.simulator import ProviderSimulator
from slotline.notifier.testing import (
    MailServer,
    TestClock,
    greek_mobile,
    new_tenant,
    notifications_of,
    notifier_settings,
    publish,
)
from slotline.notifier.wiring import service_spec

from .test_notifier_channels import request

pytestmark = pytest.mark.integration

PER_NUMBER, PER_TENANT = 3, 5
ESCALATION = {"task_id": "t-1", "deadline": "10:15", "breached": "", "caller_phone": ""}
"""A template with a text and an e-mail part."""


@pytest.fixture(scope="module")
async def service(
    module_database_url: str,
    module_kafka_bootstrap: str,
    mail_server: MailServer,
    provider: tuple[ProviderSimulator, str],
    clock: TestClock,
) -> AsyncIterator[RunningService]:
    settings = notifier_settings(
        module_database_url, module_kafka_bootstrap, mail_server, provider
    ).model_copy(
        update={
            "text_limit_per_number": f"{PER_NUMBER}/day",
            "text_limit_per_tenant": f"{PER_TENANT}/day",
        }
    )
    async with running(service_spec(settings, clock=clock)) as running_service:
        yield running_service


async def test_texts_over_the_limits_go_by_email_or_are_withheld_with_the_reason(
    service: RunningService,
    provider: tuple[ProviderSimulator, str],
    mail_server: MailServer,
) -> None:
    simulator, _ = provider
    tenant = new_tenant()
    pumped, other = greek_mobile(), greek_mobile()
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    for _ in range(PER_NUMBER + 2):  # 2 more than one number may be sent
        await publish(
            service,
            request(
                tenant,
                channels=[MessageChannel.SMS, MessageChannel.EMAIL],
                to_phone=pumped,
                to_email=email,
                urgent=True,
                template="escalation",
                variables=ESCALATION,
            ),
        )
    await eventually(lambda: len(mail_server.to(email)) == 2, timeout=15)
    assert len(simulator.to(pumped)) == PER_NUMBER

    # the tenant's other number: what the tenant has left, then nothing, not even e-mail
    for _ in range(PER_TENANT - PER_NUMBER + 1):
        await publish(
            service,
            request(
                tenant,
                channels=[MessageChannel.SMS],
                to_phone=other,
                urgent=True,
                template="escalation",
                variables=ESCALATION,
            ),
        )

    async def failed() -> list[dict[str, object]]:
        return await notifications_of(service, tenant, NotificationFailed)

    await eventually(lambda: len(simulator.to(other)) == PER_TENANT - PER_NUMBER, timeout=15)
    found: list[dict[str, object]] = []
    for _ in range(50):
        found = await failed()
        if len(found) == 3:
            break
    reasons = sorted((str(f["channel"]), str(f["fallback"]), str(f["reason"])) for f in found)
    assert [(c, fb) for c, fb, _ in reasons] == [
        ("sms", "None"),
        ("sms", "email"),
        ("sms", "email"),
    ]
    assert all(r.startswith("SMS-pumping guard") for _, _, r in reasons), reasons
    assert sum("sms_limit_per_number" in r for _, _, r in reasons) == 2
    assert sum("sms_limit_per_tenant" in r for _, _, r in reasons) == 1
    assert pumped not in str(found)  # reasons name no number
    assert other not in str(found)
    sent = await notifications_of(service, tenant, NotificationSent)
    assert len(sent) == PER_TENANT + 2  # 5 texts and 2 e-mails
    metrics = (await service.client.get("/metrics")).text
    assert 'slotline_texts_refused_total{reason="sms_limit_per_number"} 2.0' in metrics
    assert 'slotline_texts_refused_total{reason="sms_limit_per_tenant"} 1.0' in metrics
