"""The chaos run's deposits: some partner requests are for a service whose price tier asks
a deposit, paid with the card network simulator's approving token, and once quiet every
ledger must balance and no card may be charged or refunded twice.

- A clinic of its own whose service has the price tier ``chaos-deposit``; booking's
  policy for that tier asks 20.00 of 60.00 before confirming (``PUT /v1/policies/…``).
- ``ledger`` — a deposit booking whose ledger (payments' ``GET /v1/ledgers/{booking_id}``)
  does not balance: an operation still pending once quiet; a payment with more captured
  than its amount or more refunded than captured; money kept for a booking not confirmed
  (captured less refunded, or an authorisation not voided) or no money held for a
  confirmed one; or the ledger unlike the card network's record of its payment (the
  intent's status, amount received, refunds).
- ``double_charge`` — a booking with two live charges on the card network (intents
  authorised or captured), or an intent refunded more than once.

The card network simulator keeps its record in the stack's database (schema
``card_network``); it is read there, as a payment provider's dashboard would be.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import psycopg
from booking import open_clinics
from psycopg.rows import dict_row
from support import say

from slotline.availability.demo import Clinic
from slotline.events.contract.booking import BookingConfirmed, BookingEvent
from slotline.events.envelope import Message

TIER = "chaos-deposit"
POLICY = {"payment": "deposit", "price_minor": 6000, "deposit_minor": 2000}
CARD = "tok_visa"  # the simulator approves it
NETWORK_SCHEMA = "card_network"
KEPT = {"authorized", "captured"}


def open_deposit_clinic(database_url: str) -> Clinic:
    """A clinic like the benchmark's whose service has the deposit tier."""
    return open_clinics(database_url, 1, price_tier=TIER)[0]


async def ask_deposits(booking_url: str, manager_token: str) -> None:
    """Booking's policy for the tier: a deposit before confirming."""
    async with httpx.AsyncClient(base_url=booking_url, timeout=30) as http:
        answer = await http.put(
            f"/v1/policies/{TIER}",
            json=POLICY,
            headers={"Authorization": f"Bearer {manager_token}"},
        )
        answer.raise_for_status()


def booking_ids(booking_events: list[Message], request_ids: set[str]) -> dict[str, str]:
    """Booking id → its request id, for the given requests."""
    return {
        e.booking_id: e.request_id
        for e in booking_events
        if isinstance(e, BookingEvent) and e.request_id is not None and e.request_id in request_ids
    }


def _network(database_url: str, booking_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Booking id → the network's intents for it, each with its refunds."""
    with psycopg.connect(database_url, row_factory=dict_row) as connection:
        rows = connection.execute(
            f"SELECT i.booking_id, i.payment_id, i.body,"
            f" coalesce((SELECT jsonb_agg(r.body) FROM {NETWORK_SCHEMA}.refunds r"
            f"  WHERE r.payment_intent = i.id), '[]'::jsonb) AS refunds"
            f" FROM {NETWORK_SCHEMA}.intents i WHERE i.booking_id = ANY(%s)",
            (booking_ids,),
        ).fetchall()
    intents: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        intents.setdefault(row["booking_id"], []).append(
            {**row["body"], "payment_id": row["payment_id"], "refunds": row["refunds"]}
        )
    return intents


class Deposits:
    """The deposit requests of the run and their checks."""

    def __init__(self, payments_url: str, manager_token: str) -> None:
        self.payments_url = payments_url
        self.headers = {"Authorization": f"Bearer {manager_token}"}
        self.requests: set[str] = set()

    async def ledgers(self, bookings: list[str], timeout: float) -> dict[str, dict[str, Any]]:
        """Booking id → its ledger, once none has an operation pending (or ``timeout``)."""
        deadline = time.monotonic() + timeout
        found: dict[str, dict[str, Any]] = {}
        async with httpx.AsyncClient(base_url=self.payments_url, timeout=30) as http:
            while True:
                for booking_id in bookings:
                    answer = await http.get(f"/v1/ledgers/{booking_id}", headers=self.headers)
                    if answer.status_code == 200:
                        found[booking_id] = answer.json()
                    elif answer.status_code != 404:
                        answer.raise_for_status()
                pending = [b for b, ledger in found.items() if ledger["pending_operations"]]
                if not pending or time.monotonic() > deadline:
                    return found
                await asyncio.sleep(3)

    async def violations(self, database_url: str, booking_events: list[Message]) -> tuple[int, int]:
        """(ledger violations, double charge violations), per booking."""
        bookings = booking_ids(booking_events, self.requests)
        confirmed = {
            e.booking_id
            for e in booking_events
            if isinstance(e, BookingConfirmed) and e.booking_id in bookings
        }
        ledgers = await self.ledgers(sorted(bookings), timeout=90)
        network = await asyncio.to_thread(_network, database_url, sorted(bookings))
        unbalanced: dict[str, str] = {}
        for booking_id in bookings:
            ledger = ledgers.get(booking_id)
            problem = _unbalanced(ledger, network.get(booking_id, []), booking_id in confirmed)
            if problem:
                unbalanced[booking_id] = problem
        doubled: dict[str, str] = {}
        for booking_id, intents in network.items():
            live = [i["id"] for i in intents if i["status"] in ("requires_capture", "succeeded")]
            refunded = [i["id"] for i in intents if len(i["refunds"]) > 1]
            if len(live) > 1 or refunded:
                doubled[booking_id] = f"live charges {live}, refunded twice {refunded}"
        say(
            f"deposits: {len(self.requests)} requests, {len(bookings)} bookings"
            f" ({len(confirmed)} confirmed), {len(ledgers)} ledgers,"
            f" {sum(len(i) for i in network.values())} card network intents"
        )
        if unbalanced:
            say(f"ledgers that do not balance ({len(unbalanced)}): {unbalanced}")
        if doubled:
            say(f"cards charged or refunded twice ({len(doubled)}): {doubled}")
        return len(unbalanced), len(doubled)


def _unbalanced(
    ledger: dict[str, Any] | None, intents: list[dict[str, Any]], confirmed: bool
) -> str | None:
    """Why a booking's ledger does not balance, or None."""
    if ledger is None:
        return "no ledger" if confirmed or intents else None
    if ledger["pending_operations"]:
        return f"operations still pending: {ledger['pending_operations']}"
    by_payment = {i["payment_id"]: i for i in intents}
    kept = 0
    for payment in ledger["payments"]:
        amount, captured = payment["amount_minor"], payment["captured_minor"] or 0
        refunded = payment["refunded_minor"] or 0
        if not 0 <= refunded <= captured <= amount:
            return f"payment {payment['payment_id']}: {captured} captured, {refunded} refunded"
        if payment["status"] in KEPT:
            kept += amount if payment["status"] == "authorized" else captured - refunded
        intent = by_payment.get(payment["payment_id"])
        if payment["status"] in KEPT | {"voided"} and intent is None:
            return f"payment {payment['payment_id']} {payment['status']}: no intent on the network"
        if intent is not None:
            network_refunded = sum(int(r["amount"]) for r in intent["refunds"])
            expected = {
                "authorized": "requires_capture",
                "captured": "succeeded",
                "voided": "canceled",
            }.get(payment["status"])
            if (expected and intent["status"] != expected) or (
                int(intent["amount_received"]) != captured or network_refunded != refunded
            ):
                return (
                    f"payment {payment['payment_id']} {payment['status']} captured {captured}"
                    f" refunded {refunded}; network {intent['status']} received"
                    f" {intent['amount_received']} refunded {network_refunded}"
                )
    if confirmed and kept <= 0:
        return "confirmed with no deposit held"
    if not confirmed and kept > 0:
        return f"not confirmed but {kept} kept"
    return None
