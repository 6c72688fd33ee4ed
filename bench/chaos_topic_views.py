"""The chaos run's check of the read models fed by the public topics: each rebuilt from
the topics, once quiet, equals what the running service wrote through the kills.

Their "event store" is the topics (the relays publish every store again after the
broker's restart, so those hold every event). The rebuild reads each topic from the
start, as a new consumer would, applies every event once (by event id) in each
aggregate's order with the service's own code, writes the rows into a scratch schema of
the stack's database with the service's own DDL, and the two copies are compared in SQL
row by row (``chaos_views._differing``):

- the notifier's booking cards (``notifier.bookings``, the calendar feeds' source):
  ``BookingConfirmed`` makes the card (``card_of``), ``BookingRescheduled`` moves it,
  ``BookingCancelled`` cancels it — the inbox handlers' own steps, without their sends;
- analytics' fact tables (``booking_request``, ``booking``, ``call``, ``callback_task``,
  ``waitlist_entry``): every message of its four topics through ``facts_of`` and
  ``merge_into``, as its inbox does. ``booking.requests.v1`` is written by partners, not
  relayed: what the broker held before its restart is gone from it, so the partner's
  own record of what it published (this load's requests) is read beside the topic. A
  request the broker lost before analytics read it (analytics was down, or behind, when
  the broker died) is known to analytics only by its outcomes, so its row has the first
  outcome's time as ``requested_at``: such rows (nothing else differing, the request
  published before the restart) are counted in ``chaos_analytics_requests_lost_with_broker``,
  not as violations — the memory-only local broker's loss, which Apache Kafka does not
  have, and which no consumer could make good.

The live copies are read after the services had time to consume everything; a copy
still behind converges, so the comparison is made again (every 3 s, 30 s at most) until
it holds or the time is up — a difference that stays is a violation.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any

import psycopg
from chaos_views import _columns, _compared, _differing, _drop_schema, _fresh_schema
from psycopg import sql
from psycopg.rows import dict_row
from support import say

from slotline.analytics.live.facts import tables as fact_tables
from slotline.analytics.messaging import facts_of
from slotline.events.contract.booking import BookingCancelled, BookingConfirmed, BookingRescheduled
from slotline.events.envelope import Message
from slotline.events.store import ServiceApplication, postgres_env
from slotline.notifier.application.bookings import card_of
from slotline.notifier.domain.booking_card import BookingCard
from slotline.notifier.persistence.personal_rows import CARD, opened


def once_in_order(events: Iterable[Message]) -> list[Message]:
    """Each event once (a re-publication has the same id), in its aggregate's order."""
    unique = {str(e.event_id): e for e in events}
    return sorted(unique.values(), key=lambda e: (e.aggregate_id, e.sequence))


def booking_cards(booking_events: Iterable[Message]) -> dict[tuple[str, str], BookingCard]:
    """The notifier's cards as its inbox handlers make them from ``booking.events.v1``."""
    cards: dict[tuple[str, str], BookingCard] = {}
    for event in once_in_order(booking_events):
        if isinstance(event, BookingConfirmed):
            cards[(event.tenant_id, event.booking_id)] = card_of(event)
            continue
        key = (event.tenant_id, getattr(event, "booking_id", ""))
        card = cards.get(key)
        if card is None:
            continue
        if isinstance(event, BookingRescheduled):
            cards[key] = card.moved(event.slot.start, event.slot.end, tuple(event.resource_ids))
        elif isinstance(event, BookingCancelled):
            cards[key] = card.cancelled()
    return cards


def _show(
    connection: psycopg.Connection[Any],
    table: str,
    key: tuple[str, ...],
    keys: list[tuple[Any, ...]],
    schema: str,
    scratch: str,
) -> None:
    """The live and the rebuilt row of the first few differing keys, side by side."""
    for values in keys[:3]:
        where = sql.SQL(" AND ").join(sql.SQL("{} = %s").format(sql.Identifier(k)) for k in key)
        for side in (schema, scratch):
            row = connection.execute(
                sql.SQL("SELECT * FROM {} WHERE {}").format(sql.Identifier(side, table), where),
                list(values),
            ).fetchone()
            say(f"  {side}.{table}: {row}")


def _until_equal(compare: Callable[[], dict[str, list[tuple[Any, ...]]]], what: str) -> int:
    deadline = time.monotonic() + 30
    while True:
        differing = compare()
        if not any(differing.values()) or time.monotonic() > deadline:
            break
        time.sleep(3)
    for table, rows in differing.items():
        if rows:
            say(f"{what} {table} unlike the rebuild ({len(rows)}): {rows[:10]}")
    return sum(len(rows) for rows in differing.values())


class _NotifierKeys(ServiceApplication):
    """The notifier's key vault, to open its sealed cards (no tables made)."""

    name = "notifier"


def notifier_cards_violations(
    database_url: str, booking_events: list[Message], schema: str = "notifier"
) -> int:
    """Booking cards of the notifier unlike a rebuild from ``booking.events.v1``. The
    live cards' personal fields are sealed (each with its own nonce): they are opened
    with the notifier's keys and compared as JSON."""
    rebuilt = {
        key: json.loads(json.dumps(card.to_row(), sort_keys=True))
        for key, card in booking_cards(booking_events).items()
    }
    say(f"notifier's booking cards rebuilt from the topic: {len(rebuilt)}")
    keys = _NotifierKeys(env={**postgres_env(database_url, schema), "CREATE_TABLE": "n"})

    def compare() -> dict[str, list[tuple[Any, ...]]]:
        with psycopg.connect(database_url, row_factory=dict_row) as connection:
            rows = connection.execute(
                sql.SQL("SELECT tenant_id, booking_id, card FROM {}").format(
                    sql.Identifier(schema, "bookings")
                )
            ).fetchall()
        live = {
            (r["tenant_id"], r["booking_id"]): opened(r["card"], CARD, keys.vault) for r in rows
        }
        say(f"notifier's cards compared: {len(live)}")
        differing = [k for k in live.keys() | rebuilt.keys() if live.get(k) != rebuilt.get(k)]
        return {"bookings": sorted(differing)}

    try:
        return _until_equal(compare, "notifier's")
    finally:
        keys.close()


def _only_later_request_time(
    connection: psycopg.Connection[Any], schema: str, scratch: str, key: tuple[Any, ...]
) -> bool:
    """The live request row equals the rebuilt one but for a later ``requested_at``: the
    live copy never had the request itself, only the outcomes answering it."""
    rows = []
    for side in (schema, scratch):
        query = sql.SQL("SELECT * FROM {} WHERE tenant_id = %s AND request_id = %s").format(
            sql.Identifier(side, "booking_request")
        )
        cursor = connection.execute(query, list(key))
        row = cursor.fetchone()
        if row is None:
            return False
        rows.append(dict(zip([c.name for c in cursor.description or []], row, strict=True)))
    live, rebuilt = rows
    later = live.pop("requested_at") > rebuilt.pop("requested_at")
    return later and live == rebuilt


def analytics_facts_violations(
    database_url: str,
    messages: Iterable[Message],
    lost_with_broker: set[str],
    schema: str = "analytics",
) -> tuple[int, int]:
    """Fact rows of analytics unlike a rebuild from its topics (and the partner's record
    of ``booking.requests.v1``); and the requests analytics never read because the
    broker lost them (published before its restart, ``lost_with_broker``: their rows
    have the time of the first outcome instead, nothing else differs) — counted apart."""
    excused: set[tuple[Any, ...]] = set()
    scratch = f"{schema}_chaos_rebuild"
    _fresh_schema(database_url, scratch)
    try:
        events = once_in_order(messages)
        with (
            psycopg.connect(database_url, row_factory=dict_row) as connection,
            connection.cursor() as cursor,
        ):
            fact_tables.create_tables(cursor, scratch)
            for event in events:
                for table, key, values in facts_of(event):
                    fact_tables.merge_into(cursor, scratch, table, key, values)
        say(f"analytics' facts rebuilt from {len(events)} messages in {scratch}")

        def compare() -> dict[str, list[tuple[Any, ...]]]:
            differing, compared = {}, []
            with psycopg.connect(database_url) as connection:
                for table, key in fact_tables.KEYS.items():
                    columns = _columns(connection, scratch, table)
                    rows = _differing(connection, table, schema, scratch, columns, key)
                    if table == "booking_request":
                        lost = {
                            k
                            for k in rows
                            if k[1] in lost_with_broker
                            and _only_later_request_time(connection, schema, scratch, k)
                        }
                        excused.clear()
                        excused.update(lost)
                        rows = [k for k in rows if k not in lost]
                    differing[table] = rows
                    compared.append(f"{_compared(connection, table, schema)} {table}")
                    _show(connection, table, key, rows, schema, scratch)
            say(f"analytics' facts compared: {', '.join(compared)} rows")
            return differing

        return _until_equal(compare, "analytics'"), len(excused)
    finally:
        _drop_schema(database_url, scratch)
