"""Rows beside the queue: booking cards, feed versions, deliveries, WhatsApp windows,
preferences."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from psycopg.types.json import Jsonb

from slotline.events.privacy.fields import WHOSE
from slotline.events.wire_sealing import pseudonym
from slotline.notifier.domain.booking_card import BookingCard
from slotline.notifier.persistence.personal_rows import (
    CARD,
    ERASED_OUTCOME,
    MESSAGE,
    opened,
    sealed,
)

if TYPE_CHECKING:
    from slotline.notifier.persistence.unit_of_work import UnitOfWork


def save_card(work: UnitOfWork, card: BookingCard) -> None:
    work.execute(
        "INSERT INTO {bookings} (tenant_id, booking_id, card) VALUES (%s, %s, %s)"
        " ON CONFLICT (tenant_id, booking_id) DO UPDATE SET card = EXCLUDED.card",
        (card.tenant_id, card.booking_id, Jsonb(sealed(card.to_row(), CARD, work.vault))),
    )


def load_card(work: UnitOfWork, tenant_id: str, booking_id: str) -> BookingCard | None:
    row = work.execute(
        "SELECT card FROM {bookings} WHERE tenant_id = %s AND booking_id = %s FOR UPDATE",
        (tenant_id, booking_id),
    ).fetchone()
    return BookingCard.from_row(opened(row["card"], CARD, work.vault)) if row else None


def cards_of_resource(work: UnitOfWork, tenant_id: str, resource_id: str) -> list[BookingCard]:
    rows = work.execute(
        "SELECT card FROM {bookings} WHERE tenant_id = %s AND card -> 'resource_ids' ? %s"
        " ORDER BY card ->> 'starts_at'",
        (tenant_id, resource_id),
    ).fetchall()
    return [BookingCard.from_row(opened(r["card"], CARD, work.vault)) for r in rows]


def feed_version(work: UnitOfWork, tenant_id: str, resource_id: str) -> int:
    """The resource's feed version: 0 until its URL is first rotated."""
    row = work.execute(
        "SELECT version FROM {feed_versions} WHERE tenant_id = %s AND resource_id = %s",
        (tenant_id, resource_id),
    ).fetchone()
    return int(row["version"]) if row else 0


def rotate_feed(work: UnitOfWork, tenant_id: str, resource_id: str, at: datetime) -> int:
    """Move the resource's feed version on (one upsert: concurrent rotations each count)."""
    row = work.execute(
        "INSERT INTO {feed_versions} (tenant_id, resource_id, version, rotated_at)"
        " VALUES (%s, %s, 1, %s) ON CONFLICT (tenant_id, resource_id) DO UPDATE"
        " SET version = {feed_versions}.version + 1, rotated_at = EXCLUDED.rotated_at"
        " RETURNING version",
        (tenant_id, resource_id, at),
    ).fetchone()
    assert row is not None  # an upsert with RETURNING always returns its row
    return int(row["version"])


Delivery = tuple[str, str, str, str, str]
"""provider reference, tenant, message key, notification id, channel"""


def record_deliveries(work: UnitOfWork, deliveries: list[Delivery], at: datetime) -> None:
    """What providers accepted, so their status callbacks can be matched later."""
    work.execute_many(
        "INSERT INTO {deliveries} (provider_reference, tenant_id, message_key, notification_id,"
        " channel, state, at) VALUES (%s, %s, %s, %s, %s, 'sent', %s)"
        " ON CONFLICT (provider_reference) DO NOTHING",
        [(*delivery, at) for delivery in deliveries],
    )


def find_delivery(work: UnitOfWork, provider_reference: str) -> dict[str, Any] | None:
    row = work.execute(
        "SELECT * FROM {deliveries} WHERE provider_reference = %s FOR UPDATE",
        (provider_reference,),
    ).fetchone()
    return dict(row) if row else None


def mark_delivery(work: UnitOfWork, provider_reference: str, state: str, at: datetime) -> None:
    work.execute(
        "UPDATE {deliveries} SET state = %s, at = %s WHERE provider_reference = %s",
        (state, at, provider_reference),
    )


def message_body(work: UnitOfWork, tenant_id: str, key: str) -> dict[str, Any] | None:
    row = work.execute(
        "SELECT body FROM {messages} WHERE tenant_id = %s AND key = %s", (tenant_id, key)
    ).fetchone()
    return opened(row["body"], MESSAGE, work.vault) if row else None


def open_window(work: UnitOfWork, tenant_id: str, phone: str, at: datetime) -> None:
    """A WhatsApp window is kept under the number's keyed pseudonym (the ``phone``
    column holds no number: see :func:`slotline.events.wire_sealing.pseudonym`)."""
    work.execute(
        "INSERT INTO {whatsapp_windows} (tenant_id, phone, last_inbound_at) VALUES (%s, %s, %s)"
        " ON CONFLICT (tenant_id, phone) DO UPDATE SET last_inbound_at ="
        " greatest({whatsapp_windows}.last_inbound_at, EXCLUDED.last_inbound_at)",
        (tenant_id, pseudonym(tenant_id, phone), at),
    )


def windows(work: UnitOfWork, keys: list[tuple[str, str]]) -> dict[tuple[str, str], datetime]:
    """Last inbound WhatsApp message per (tenant, phone)."""
    if not keys:
        return {}
    by_pseudonym = {(tenant, pseudonym(tenant, phone)): (tenant, phone) for tenant, phone in keys}
    rows = work.execute(
        "SELECT w.tenant_id, w.phone, w.last_inbound_at FROM {whatsapp_windows} w"
        " JOIN unnest(%s::text[], %s::text[]) AS k(tenant_id, phone)"
        " ON w.tenant_id = k.tenant_id AND w.phone = k.phone",
        ([k[0] for k in by_pseudonym], [k[1] for k in by_pseudonym]),
    ).fetchall()
    return {by_pseudonym[(r["tenant_id"], r["phone"])]: r["last_inbound_at"] for r in rows}


def first_sight_of_inbound(work: UnitOfWork, tenant_id: str, message_sid: str) -> bool:
    """True the first time a provider's inbound message id is seen (webhooks retry)."""
    cursor = work.execute(
        "INSERT INTO {inbound_messages} (tenant_id, message_sid) VALUES (%s, %s)"
        " ON CONFLICT DO NOTHING",
        (tenant_id, message_sid),
    )
    return cursor.rowcount == 1


def preferences(work: UnitOfWork, tenant_ids: list[str]) -> dict[str, dict[str, Any]]:
    if not tenant_ids:
        return {}
    rows = work.execute(
        "SELECT tenant_id, preferences FROM {tenant_preferences} WHERE tenant_id = ANY(%s)",
        (tenant_ids,),
    ).fetchall()
    return {r["tenant_id"]: dict(r["preferences"]) for r in rows}


def save_preferences(work: UnitOfWork, tenant_id: str, values: dict[str, Any]) -> None:
    work.execute(
        "INSERT INTO {tenant_preferences} (tenant_id, preferences) VALUES (%s, %s)"
        " ON CONFLICT (tenant_id) DO UPDATE SET preferences = EXCLUDED.preferences",
        (tenant_id, Jsonb(values)),
    )


def forget_people(work: UnitOfWork, tenant_id: str, people: list[str], now: datetime) -> int:
    """Skip the people's waiting messages and drop their booking cards (rows name their
    person by pseudonym beside the sealed fields)."""
    skipped = work.execute(
        "UPDATE {messages} SET state = 'skipped', outcome = %s, finished_at = %s"
        " WHERE tenant_id = %s AND state = 'scheduled'"
        f" AND body -> '{WHOSE}' ->> 'subject' = ANY(%s)",
        (ERASED_OUTCOME, now, tenant_id, people),
    ).rowcount
    dropped = work.execute(
        "DELETE FROM {bookings} WHERE tenant_id = %s"
        f" AND card -> '{WHOSE}' ->> 'subject' = ANY(%s)",
        (tenant_id, people),
    ).rowcount
    return skipped + dropped
