"""The no-show rate of one business, computed from the raw ``booking.events.v1`` topic.

A worked example for analysts (see docs/analytics.md): plain aiokafka and the standard
library, no Slotline code. It reads the topic from the beginning without a consumer
group (nothing is committed, no other reader is disturbed) until it has been quiet for
a moment, then applies the same definition as the analytics service:

    no-show rate = no-shows / (completed + no-shows)
    over the confirmed, not cancelled bookings whose service time starts in the period.

Run it against a running system (``make run``)::

    uv run python docs/examples/no_show_rate.py --tenant demo --from 2026-10-01 --to 2026-10-31
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

TOPIC = "booking.events.v1"


async def read_topic(bootstrap: str, idle_seconds: float) -> list[dict[str, Any]]:
    """Every message on the topic, from the first, as JSON objects (poison skipped)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    messages: list[dict[str, Any]] = []
    try:
        await consumer.topics()  # fetch the metadata of every topic
        partitions = [TopicPartition(TOPIC, p) for p in consumer.partitions_for_topic(TOPIC) or ()]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < idle_seconds:
            batches = await consumer.getmany(timeout_ms=200)
            for records in batches.values():
                quiet_since = time.monotonic()
                for record in records:
                    try:
                        messages.append(json.loads(record.value))
                    except ValueError:
                        continue  # not JSON: a poison record, it has a dead letter elsewhere
        return messages
    finally:
        await consumer.stop()


@dataclass
class Booking:
    """What the no-show rate needs to know about one booking."""

    confirmed: bool = False
    starts_at: datetime | None = None
    slot_sequence: int = 0
    cancelled: bool = False
    outcome: str | None = None  # "completed" or "no_show"


def bookings_of(messages: list[dict[str, Any]], tenant: str) -> dict[str, Booking]:
    """Fold one tenant's booking events into bookings. Each event counts once (by its
    ``event_id``, which a re-published event keeps), and a booking's slot is the one of
    its latest event (by ``sequence``), whatever order the records were read in."""
    seen: set[str] = set()
    bookings: dict[str, Booking] = {}
    for message in messages:
        if message.get("tenant_id") != tenant or "booking_id" not in message:
            continue
        if message["event_id"] in seen:
            continue
        seen.add(message["event_id"])
        booking = bookings.setdefault(message["booking_id"], Booking())
        kind = message["event_type"]
        if kind in {"BookingConfirmed", "BookingRescheduled"}:
            booking.confirmed = True
            if message["sequence"] > booking.slot_sequence:
                booking.slot_sequence = message["sequence"]
                booking.starts_at = datetime.fromisoformat(message["slot"]["start"])
        elif kind == "BookingCancelled":
            booking.cancelled = True
        elif kind == "BookingCompleted":
            booking.outcome = "completed"
        elif kind == "BookingNoShow":
            booking.outcome = "no_show"
    return bookings


def no_show_rate(bookings: dict[str, Booking], start: datetime, end: datetime) -> tuple[int, int]:
    """(no-shows, appointments with a known outcome) among bookings starting in [start, end)."""
    settled = [
        b
        for b in bookings.values()
        if b.confirmed
        and not b.cancelled
        and b.outcome is not None
        and b.starts_at is not None
        and start <= b.starts_at < end
    ]
    return sum(b.outcome == "no_show" for b in settled), len(settled)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default="127.0.0.1:9092", help="Kafka bootstrap servers")
    parser.add_argument("--tenant", required=True, help="the business (tenant_id)")
    parser.add_argument("--from", dest="start", type=date.fromisoformat, required=True)
    parser.add_argument(
        "--to", dest="end", type=date.fromisoformat, required=True, help="last day, included"
    )
    parser.add_argument(
        "--idle-seconds",
        type=float,
        default=2.0,
        help="stop reading after this long without a new record",
    )
    args = parser.parse_args()
    start = datetime.combine(args.start, datetime.min.time(), UTC)
    end = datetime.combine(args.end + timedelta(days=1), datetime.min.time(), UTC)

    messages = asyncio.run(read_topic(args.bootstrap, args.idle_seconds))
    no_shows, appointments = no_show_rate(bookings_of(messages, args.tenant), start, end)
    rate = f"{no_shows / appointments:.4f}" if appointments else "n/a"
    print(
        f"no_show_rate: {rate} ({no_shows} of {appointments} appointments, {len(messages)} "
        f"messages read)"
    )


if __name__ == "__main__":
    main()
