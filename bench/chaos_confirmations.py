"""The chaos run's confirmations: every confirmed booking's customer is sent its
confirmation once — none lost, none doubled.

A ``BookingConfirmed`` makes the notifier queue one message per channel the customer can
be reached on (``booking_channels``: e-mail if given; SMS, or WhatsApp then SMS, with
transactional consent). In the chaos stack the only one is SMS, through the
Twilio-compatible simulator served by the chaos process; each message carries the
idempotency key ``<booking_id>:confirmed:<channel>/<channel>``, which ties it to its
booking (the partner's requests share one phone number, so the number cannot).

The rules are the text-backs' (``chaos_calls.py``): a send cut off by a ``kill -9``
(claimed, outcome unknown) is never sent again and is reported failed ("interrupted")
on ``notifications.events.v1`` once older than ``SLOTLINE_INTERRUPTED_AFTER_SECONDS``;
such a booking, with no message and that report, is counted in
``chaos_confirmations_interrupted``, not as a violation. A booking with two confirmation
messages or more, or with none and no interrupted report, is one.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from outside import read_all
from support import say

from slotline.events.topics import NOTIFICATIONS_EVENTS
from slotline.notifier.simulator import ProviderSimulator

SUFFIX = ":confirmed"


def reachable_confirmed(booking_events: list[dict[str, Any]]) -> set[str]:
    """Booking ids confirmed with a phone and transactional consent (so one SMS due)."""
    return {
        str(e["booking_id"])
        for e in booking_events
        if e.get("event_type") == "BookingConfirmed"
        and e.get("booking_id")
        and (e.get("contact") or {}).get("phone")
        and (e.get("consents") or {}).get("transactional", True)
    }


class Confirmations:
    """What the provider accepted per confirmed booking, and the interrupted sends."""

    def __init__(self, provider: ProviderSimulator, booking_events: list[dict[str, Any]]) -> None:
        self.provider = provider
        self.bookings = reachable_confirmed(booking_events)
        self.interrupted: set[str] = set()

    def sent(self) -> dict[str, int]:
        """Booking id → confirmation messages accepted for it."""
        counts: dict[str, int] = {}
        for message in self.provider.accepted:
            key = str(message.get("key") or "")
            booking_id, _, rest = key.partition(":")
            if rest.startswith("confirmed:"):
                counts[booking_id] = counts.get(booking_id, 0) + 1
        return counts

    async def settled(self, bootstrap: str, timeout: float) -> None:
        """Wait until every booking got its message or its send was reported interrupted
        (or ``timeout``), then a little more: a doubled confirmation would come after."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sent = self.sent()
            waiting = [b for b in self.bookings if not sent.get(b)]
            if waiting:
                self.interrupted = await self._interrupted(bootstrap)
            if all(b in self.interrupted for b in waiting):
                break
            await asyncio.sleep(2)
        await asyncio.sleep(5)

    async def _interrupted(self, bootstrap: str) -> set[str]:
        events = await read_all(bootstrap, NOTIFICATIONS_EVENTS, quiet_seconds=1)
        return {
            str(e["notification_id"]).removesuffix(SUFFIX)
            for e in events
            if e.get("event_type") == "NotificationFailed"
            and str(e.get("notification_id", "")).endswith(SUFFIX)
            and "interrupted" in str(e.get("reason", ""))
        }

    def interrupted_count(self) -> int:
        sent = self.sent()
        return sum(1 for b in self.bookings if not sent.get(b) and b in self.interrupted)

    def violations(self) -> int:
        """Confirmed bookings with two messages or more, or none and no interrupted send;
        and confirmation messages for a booking never confirmed."""
        sent = self.sent()
        wrong = {
            b: sent.get(b, 0)
            for b in self.bookings
            if sent.get(b, 0) > 1 or (not sent.get(b) and b not in self.interrupted)
        }
        stray = {b: n for b, n in sent.items() if b not in self.bookings}
        if wrong:
            say(f"bookings without exactly one confirmation (booking: messages): {wrong}")
        if stray:
            say(f"confirmations of bookings never confirmed (booking: messages): {stray}")
        return len(wrong) + len(stray)
