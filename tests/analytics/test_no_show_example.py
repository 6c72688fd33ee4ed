"""The worked example in docs/analytics.md computes the no-show rate from the raw topic."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from aiokafka import AIOKafkaProducer

from slotline.events.contract.booking import (
    Actor,
    BookingCancelled,
    BookingCompleted,
    BookingConfirmed,
    BookingNoShow,
    BookingRescheduled,
)
from slotline.events.contract.common import Consents, Contact, TimeSlot
from slotline.events.envelope import Message

pytestmark = pytest.mark.integration

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "examples" / "no_show_rate.py"


def slot(day: int, hour: int = 10) -> TimeSlot:
    start = datetime(2026, 10, day, hour, tzinfo=UTC)
    return TimeSlot(start=start, end=start + timedelta(hours=1))


def confirmed(tenant: str, booking_id: str, day: int) -> BookingConfirmed:
    return BookingConfirmed(
        tenant_id=tenant,
        aggregate_id=booking_id,
        sequence=2,
        booking_id=booking_id,
        reference="SLT-7K4Q",
        customer_id="ana",
        contact=Contact(name="Ana", phone="+302101234567"),
        consents=Consents(),
        service_id="massage",
        service_name="Massage",
        location_id="kifisia",
        time_zone="Europe/Athens",
        slot=slot(day),
        resource_ids=["staff-1"],
    )


def then(
    kind: type[Message], tenant: str, booking_id: str, sequence: int, **fields: Any
) -> Message:
    return kind(
        tenant_id=tenant,
        aggregate_id=booking_id,
        sequence=sequence,
        booking_id=booking_id,
        **fields,
    )


def story(tenant: str) -> list[Message]:
    """October: 3 came, 2 did not, 1 cancelled, 1 not settled, 1 moved into November."""
    ids = {name: f"{name}-{uuid.uuid4().hex[:6]}" for name in "abcdefgh"}
    moved = BookingRescheduled(
        tenant_id=tenant,
        aggregate_id=ids["h"],
        sequence=3,
        booking_id=ids["h"],
        by=Actor.CUSTOMER,
        previous_slot=slot(28),
        slot=TimeSlot(
            start=datetime(2026, 11, 3, 10, tzinfo=UTC), end=datetime(2026, 11, 3, 11, tzinfo=UTC)
        ),
        resource_ids=["staff-1"],
        change_number=1,
    )
    no_show_twice = then(BookingNoShow, tenant, ids["d"], 3)
    return [
        *(
            confirmed(tenant, ids[n], day)
            for n, day in zip("abcdefgh", (2, 3, 4, 5, 6, 7, 8, 28), strict=True)
        ),
        *(then(BookingCompleted, tenant, ids[n], 3) for n in "abc"),
        no_show_twice,
        no_show_twice,  # re-published: the same event_id, counted once
        then(BookingNoShow, tenant, ids["e"], 3),
        then(BookingCancelled, tenant, ids["f"], 3, by=Actor.CUSTOMER, within_free_window=True),
        moved,
        then(BookingNoShow, tenant, ids["h"], 4),  # in November: outside the period
        then(BookingNoShow, "another-clinic", ids["a"], 9),
    ]


async def publish(bootstrap: str, messages: list[Message]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for message in messages:
            await producer.send_and_wait(
                message.TOPIC, message.to_json(), key=message.aggregate_id.encode()
            )
        await producer.send_and_wait("booking.events.v1", b"not json", key=b"poison")
    finally:
        await producer.stop()


class TestTheNoShowRateExample:
    async def test_it_counts_settled_october_appointments_once_each(
        self, kafka_bootstrap: str
    ) -> None:
        await publish(kafka_bootstrap, story("clinic-1"))
        command = [
            sys.executable,
            str(SCRIPT),
            "--bootstrap",
            kafka_bootstrap,
            "--tenant",
            "clinic-1",
            "--from",
            "2026-10-01",
            "--to",
            "2026-10-31",
            "--idle-seconds",
            "1",
        ]

        done = await anyio.to_thread.run_sync(
            lambda: subprocess.run(command, capture_output=True, text=True, timeout=120)
        )

        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("no_show_rate: 0.4000 (2 of 5 appointments"), done.stdout
