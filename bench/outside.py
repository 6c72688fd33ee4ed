"""Checks from the outside, as an analyst or an auditor would make them: from the public
topics and the read APIs only, never from a service's internals.

Used by ``make loadtest`` and ``make chaos`` after their runs.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import combinations
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer

from slotline.events.contract.booking import (
    BookingCancelled,
    BookingConfirmed,
    BookingRescheduled,
)
from slotline.events.contract.registry import parse_message
from slotline.events.envelope import Message
from slotline.events.topics import BOOKING_EVENTS


async def read_all(bootstrap: str, topic: str, quiet_seconds: float = 2.0) -> list[Message]:
    """Every record of ``topic`` from the start, until nothing new for ``quiet_seconds``,
    parsed by the contract as a consumer reads it (a record it refuses raises)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=50,
    )
    await consumer.start()
    records: list[Message] = []
    try:
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < quiet_seconds:
            batch = await consumer.getmany(timeout_ms=200)
            for partition in batch.values():
                for record in partition:
                    records.append(parse_message(record.topic, record.value or b""))
                    quiet_since = time.monotonic()
    finally:
        await consumer.stop()
    return records


@dataclass
class Allocation:
    booking_id: str
    service_id: str
    start: datetime
    end: datetime
    resource_ids: list[str] = field(default_factory=list)


def allocations(booking_events: list[Message]) -> list[Allocation]:
    """The allocations the bookings hold now, by their public events (an event seen twice
    — a re-publication — changes nothing; order per booking is the stream's)."""
    current: dict[str, Allocation] = {}
    seen: set[str] = set()
    for event in sorted(booking_events, key=lambda e: (e.aggregate_id, e.sequence)):
        if str(event.event_id) in seen:
            continue
        seen.add(str(event.event_id))
        if isinstance(event, BookingConfirmed | BookingRescheduled):
            booking_id = event.booking_id
            current[booking_id] = Allocation(
                booking_id,
                event.service_id
                if isinstance(event, BookingConfirmed)
                else getattr(current.get(booking_id), "service_id", ""),
                event.slot.start,
                event.slot.end,
                list(event.resource_ids),
            )
        elif isinstance(event, BookingCancelled):
            current.pop(event.booking_id, None)
    return list(current.values())


def double_bookings(held: list[Allocation], services: dict[str, dict[str, Any]]) -> int:
    """Pairs of allocations of one resource whose times overlap, buffers included (a
    group session — same service and slot, capacity above one — shares its resources)."""
    by_resource: dict[str, list[Allocation]] = defaultdict(list)
    for allocation in held:
        for resource_id in allocation.resource_ids:
            by_resource[resource_id].append(allocation)
    pairs = 0
    for entries in by_resource.values():
        for a, b in combinations(entries, 2):
            terms = services.get(a.service_id, {})
            if (
                terms.get("capacity", 1) > 1
                and a.service_id == b.service_id
                and (a.start, a.end) == (b.start, b.end)
            ):
                continue
            a_from, a_to = _occupied(a, services)
            b_from, b_to = _occupied(b, services)
            if a_from < b_to and b_from < a_to:
                pairs += 1
    return pairs


def _occupied(
    allocation: Allocation, services: dict[str, dict[str, Any]]
) -> tuple[datetime, datetime]:
    terms = services.get(allocation.service_id, {})
    before = timedelta(minutes=terms.get("buffer_before_minutes", 0))
    after = timedelta(minutes=terms.get("buffer_after_minutes", 0))
    return allocation.start - before, allocation.end + after


async def service_terms(
    availability_url: str, token: str, service_ids: set[str]
) -> dict[str, dict[str, Any]]:
    """Each service's buffers and capacity, from availability's API."""
    found: dict[str, dict[str, Any]] = {}
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=availability_url, timeout=10) as http:
        for service_id in service_ids:
            response = await http.get(f"/v1/services/{service_id}", headers=headers)
            if response.status_code == 200:
                found[service_id] = response.json()
    return found


async def double_bookings_now(bootstrap: str, availability_url: str, token: str) -> int:
    """The double bookings the public topic shows, buffers included."""
    held = allocations(await read_all(bootstrap, BOOKING_EVENTS))
    terms = await service_terms(availability_url, token, {a.service_id for a in held})
    return double_bookings(held, terms)
