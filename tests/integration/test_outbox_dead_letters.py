"""Every service's relay fails the same loud way: a stored event it cannot map goes to
``slotline.outbox.dlq`` with the reason, and the relay publishes the next one.

The six services publish through one relay (``slotline.events.relay.OutboxRelay``) and
one kind of table (``slotline.events.publishing.Publisher``). These tests hold each
service's real table, as the runtime builds it (its own mappings plus the audit trail's),
to that: no mapping hides a failure from the relay, and the relay dead-letters whatever
raises in that table and goes on. The relay's own rules (reason, headers, position,
restart) are specified in ``libs/events/tests/test_relay.py``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, cast

import pytest
from faststream.kafka import KafkaBroker

from slotline.analytics import messaging as analytics
from slotline.availability import messaging as availability
from slotline.booking import messaging as booking
from slotline.booking.links import ManageLinks
from slotline.call_intake import messaging as call_intake
from slotline.events.audit import publish_audit
from slotline.events.contract.dead_letter import DeadLetter
from slotline.events.envelope import Message
from slotline.events.kafka import build_broker, ensure_topics
from slotline.events.publishing import Publisher
from slotline.events.relay import OutboxRelay
from slotline.events.settings import ServiceSettings
from slotline.events.store import ensure_schema, postgres_env
from slotline.events.testing.reading import read_topic
from slotline.events.testing.tally import TALLY_TOPIC, Tally, TallyApplication, TallyCounted
from slotline.events.topics import OUTBOX_DEAD_LETTERS
from slotline.notifier import messaging as notifier
from slotline.payments import messaging as payments

SERVICE_TABLES: dict[str, Callable[[], Publisher]] = {
    "availability": availability.publisher,
    "booking": lambda: booking.publisher(
        ManageLinks("manage-link-secret-for-tests-0123456789", "https://book.example.com")
    ),
    "payments": lambda: payments.publisher("https://receipts.example.com"),
    "notifier": notifier.publisher,
    "call-intake": call_intake.publisher,
    "analytics": lambda: analytics.publisher(cast(Any, None)),  # publishes nothing of its own
}


def as_the_runtime_builds_it(service: str) -> Publisher:
    table = SERVICE_TABLES[service]()
    publish_audit(table)
    return table


class Broken:
    """An aggregate with none of the data a mapping reads."""


@pytest.mark.unit
@pytest.mark.parametrize("service", SERVICE_TABLES)
def test_no_mapping_of_a_service_hides_a_failure_from_the_relay(service: str) -> None:
    """Each mapping meeting data it cannot map raises that very error (here the
    ``AttributeError`` of a broken aggregate) for the relay to dead-letter: it neither
    returns nothing (the event silently dropped) nor turns it into another error."""
    table = as_the_runtime_builds_it(service)
    hidden: dict[str, str] = {}
    for event_class in table.published:
        try:
            message = table.message_for(Broken(), object.__new__(event_class))
        except AttributeError:
            continue
        except Exception as error:
            hidden[event_class.__qualname__] = repr(error)
        else:
            hidden[event_class.__qualname__] = f"returned {message!r}"
    assert hidden == {}


@pytest.fixture
def tally_app(database_url: str) -> Iterator[TallyApplication]:
    ensure_schema(database_url, "producer")
    app = TallyApplication(env=postgres_env(database_url, "producer"))
    yield app
    app.close()


@pytest.fixture
async def broker(database_url: str, kafka_bootstrap: str) -> AsyncIterator[KafkaBroker]:
    await ensure_topics(kafka_bootstrap, [TALLY_TOPIC])
    broker = build_broker(
        ServiceSettings(database_url=database_url, kafka_bootstrap=kafka_bootstrap)
    )
    await broker.start()
    yield broker
    await broker.stop()


@pytest.mark.integration
@pytest.mark.parametrize("service", SERVICE_TABLES)
async def test_a_service_relay_dead_letters_what_its_table_cannot_map_and_goes_on(
    service: str,
    tally_app: TallyApplication,
    broker: KafkaBroker,
    database_url: str,
    kafka_bootstrap: str,
) -> None:
    table = as_the_runtime_builds_it(service)
    table.follow(Tally)

    @table.on(Tally.Counted)
    def counted(tally: Tally, domain_event: Tally.Counted) -> Message:
        if domain_event.amount == 13:
            raise KeyError("to_phone")
        return TallyCounted(
            tenant_id=tally.tenant_id,
            aggregate_id=str(tally.id),
            amount=domain_event.amount,
            total=tally.total,
        )

    tally = Tally()
    for amount in (13, 1):
        tally.count(amount)
    tally_app.save(tally)

    relay = OutboxRelay(tally_app, broker, table, database_url=database_url)
    while await relay.relay_once():
        pass

    [letter] = [
        DeadLetter.model_validate_json(record.value)
        for record in await read_topic(kafka_bootstrap, OUTBOX_DEAD_LETTERS, expected=1)
    ]
    assert letter.error_type == "KeyError"
    assert "'to_phone'" in letter.reason
    assert letter.original_headers["originator_version"] == "2"
    [published] = await read_topic(kafka_bootstrap, TALLY_TOPIC, expected=1)
    assert json.loads(published.value)["amount"] == 1
    assert tally_app.process_recorder.max_tracking_id(relay.name) == (
        tally_app.recorder.max_notification_id()
    )
